"""Solutions of the severstal-steel task."""
