"""Solutions for the rsna-ich task."""
