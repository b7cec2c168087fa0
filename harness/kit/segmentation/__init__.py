"""Shared code for segmentation tasks: RLE mask encodings, the Dice metric, mask clean-up, and
the mean-Dice metric, answers reader and submission validator of an RLE competition.

Import the submodules (``harness.kit.segmentation.rle``, ``.dice``, ``.components``,
``.metric``, ``.submission``) directly.
"""
