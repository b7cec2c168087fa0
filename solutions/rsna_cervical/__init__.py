"""Solutions for the rsna-cervical task."""
