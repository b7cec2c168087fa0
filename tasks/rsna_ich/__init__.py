"""RSNA Intracranial Hemorrhage Detection (Kaggle, 2019).

Head CT slices in, six hemorrhage probabilities per slice out, scored with the weighted
multi-label log loss (lower is better; see tasks.rsna_ich.metric).

The tables (``load``; the training view) have one row per slice with columns ``image_id``
(``ID_<hex>``, the file stem), ``path`` (absolute), ``PatientID``, ``StudyInstanceUID``,
``SeriesInstanceUID``, ``InstanceNumber`` (-1 when absent), ``position`` (mm along the slice
normal, from ImagePositionPatient and ImageOrientationPatient), ``slice_index`` (0 = lowest
position in its series) and ``n_slices`` (of its series), then the six labels ``epidural``,
``intraparenchymal``, ``intraventricular``, ``subarachnoid``, ``subdural``, ``any`` (0/1).
Rows are sorted by patient, study, series and slice_index, so a series' slices are
consecutive and in anatomical order. The holdout view (``public_view``) has the same columns
without the six labels. A submission is Kaggle's ``ID,Label`` with six rows per image
(``tasks.rsna_ich.submission.submission_frame`` builds one).
"""

from tasks.rsna_ich.task import RsnaIchTask

__all__ = ["RsnaIchTask"]
