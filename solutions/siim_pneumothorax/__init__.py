"""Solutions of the siim-pneumothorax task."""
