"""Shared imaging code for tasks and solutions: DICOM decoding, intensity mapping, synthesis.

Import the submodules (``harness.kit.imaging.dicom``, ``.intensity``, ``.synth_dicom``) directly;
this package imports nothing heavy on its own.
"""
