"""Solutions for the rsna-breast task."""
