"""Shared code for segmentation tasks: RLE mask encodings, the Dice metric, mask clean-up.

Import the submodules (``harness.kit.segmentation.rle``, ``.dice``, ``.components``) directly.
"""
