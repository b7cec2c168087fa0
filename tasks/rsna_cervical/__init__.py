"""RSNA 2022 Cervical Spine Fracture Detection (Kaggle, 2022).

The table handed to solutions has one row per study: ``StudyInstanceUID``, ``study_dir``
(absolute path of the study's slice folder; ``tasks.rsna_cervical.volume.read_volume`` or
``ordered_slice_paths`` put its slices in ImagePositionPatient order) and ``n_slices``. The
training view adds the labels ``patient_overall``, ``C1`` .. ``C7`` and ``segmentation``,
the absolute path of the study's NIfTI label volume or missing (NaN) (read it with
``volume.read_segmentation``, aligned to ``read_volume``). ``train_bounding_boxes.csv`` is
not handed over. The submission has ``row_id = {StudyInstanceUID}_{C1..C7|patient_overall}``
and ``fractured``; the score is the host's per-study weighted log loss (lower is better).
"""

from tasks.rsna_cervical.task import RsnaCervicalTask

__all__ = ["RsnaCervicalTask"]
