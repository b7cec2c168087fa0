"""The sequence solution's parts: series assembly and padding, the sequence model's masking,
the out-of-fold embedding split, the head crop and slice cache, the epoch plan, the presets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from harness.engine.config import ConfigError, merge_overrides
from harness.engine.registry import load_task
from harness.kit.splits import grouped_folds
from solutions.rsna_ich.sequence.cnn import SliceCnn
from solutions.rsna_ich.sequence.config import PRESETS, SequenceConfig
from solutions.rsna_ich.sequence.folds import fold_rows
from solutions.rsna_ich.sequence.losses import metric_loss, weighted_bce
from solutions.rsna_ich.sequence.sequence_model import SliceSequenceModel
from solutions.rsna_ich.sequence.sequences import pad_series, series_features, series_sequences
from solutions.rsna_ich.sequence.slices import head_box, prepare_slices, slice_image
from solutions.rsna_ich.sequence.stage1 import (
    FoldData,
    FoldResult,
    embed,
    epoch_plan,
    out_of_fold,
    train_fold,
)
from tasks.rsna_ich.layout import SUBTYPES
from tasks.rsna_ich.metric import weighted_log_loss


def _patient_folds(frame: pd.DataFrame, n_folds: int) -> np.ndarray:
    """The solution's folds: patient-grouped, stratified on any bleeding."""
    return grouped_folds(frame, group="PatientID", label="any", n_folds=n_folds, seed=0)


def _series_table() -> pd.DataFrame:
    """Two series of one patient and one of another, rows shuffled, file names in the reverse
    of slice order."""
    rows = []
    for patient, study, series, n in (
        ("P1", "S1", "A", 4),
        ("P1", "S2", "B", 3),
        ("P2", "S3", "C", 5),
    ):
        for index in range(n):
            rows.append(
                {
                    "image_id": f"ID_{series}{9 - index}",
                    "PatientID": patient,
                    "StudyInstanceUID": study,
                    "SeriesInstanceUID": series,
                    "slice_index": index,
                }
            )
    return pd.DataFrame(rows).sample(frac=1.0, random_state=3).reset_index(drop=True)


def test_series_are_ordered_by_slice_index_not_by_name_or_row_order() -> None:
    frame = _series_table()
    sequences = series_sequences(frame)
    assert [frame["SeriesInstanceUID"].iloc[s[0]] for s in sequences] == ["A", "B", "C"]
    for positions in sequences:
        assert frame["SeriesInstanceUID"].iloc[positions].nunique() == 1
        assert frame["slice_index"].iloc[positions].tolist() == list(range(len(positions)))
    # File names sort the other way round: slice order did not come from them.
    first = frame["image_id"].iloc[sequences[0]].tolist()
    assert first == sorted(first, reverse=True)

    shuffled = frame.sample(frac=1.0, random_state=7).reset_index(drop=True)
    as_ids = [frame["image_id"].iloc[s].tolist() for s in sequences]
    assert [shuffled["image_id"].iloc[s].tolist() for s in series_sequences(shuffled)] == as_ids


def test_series_of_chosen_rows_keep_their_order_and_need_slice_index() -> None:
    frame = _series_table()
    chosen = np.flatnonzero(frame["slice_index"].to_numpy() != 1)
    sequences = series_sequences(frame, chosen)
    assert sorted(np.concatenate(sequences).tolist()) == chosen.tolist()
    assert frame["slice_index"].iloc[sequences[0]].tolist() == [0, 2, 3]
    with pytest.raises(ValueError, match="slice_index"):
        series_sequences(frame.drop(columns="slice_index"))


def test_delta_features_stay_inside_a_series() -> None:
    embeddings = np.array([[1.0, 0.0], [3.0, 1.0], [6.0, 1.0]], np.float32)
    features = series_features(embeddings, deltas=True)
    np.testing.assert_array_equal(features[:, :2], embeddings)
    np.testing.assert_array_equal(features[:, 2:4], [[0, 0], [2, 1], [3, 0]])  # minus previous
    np.testing.assert_array_equal(features[:, 4:], [[-2, -1], [-3, 0], [0, 0]])  # minus next
    assert series_features(embeddings, deltas=False).shape == (3, 2)


def test_padding_fills_zeros_after_each_series_and_masks_them() -> None:
    rng = np.random.default_rng(0)
    short, long = rng.normal(size=(2, 3)), rng.normal(size=(4, 3))
    batch = pad_series([short, long], [np.ones((2, 6)), np.ones((4, 6))])
    assert batch.features.shape == (2, 4, 3) and batch.lengths.tolist() == [2, 4]
    assert batch.mask.tolist() == [[True, True, False, False], [True] * 4]
    assert float(batch.features[0, 2:].abs().sum()) == 0.0
    assert batch.labels is not None and float(batch.labels[0, 2:].sum()) == 0.0
    with pytest.raises(ValueError, match="at least one"):
        pad_series([])


def _sequence_model(rnn: str) -> SliceSequenceModel:
    torch.manual_seed(0)
    return SliceSequenceModel(
        5, hidden=4, rnn=rnn, dropout=0.3, mean=torch.zeros(5), std=torch.ones(5)
    ).eval()


@pytest.mark.parametrize("rnn", ["lstm", "gru"])
def test_a_series_output_does_not_depend_on_the_others_in_its_batch(rnn: str) -> None:
    model = _sequence_model(rnn)
    rng = np.random.default_rng(1)
    short = rng.normal(size=(3, 5)).astype(np.float32)
    alone = pad_series([short])
    expected = model(alone.features, alone.lengths)[0]
    for other in (rng.normal(size=(7, 5)), 100 * rng.normal(size=(7, 5))):
        batch = pad_series([short, other.astype(np.float32)])
        batch.features[0, 3:] = 1e3  # whatever the padding holds
        np.testing.assert_allclose(
            model(batch.features, batch.lengths)[0, :3].detach(), expected.detach(), atol=1e-5
        )


def test_no_gradient_flows_from_one_series_into_another_or_into_padding() -> None:
    model = _sequence_model("lstm")
    rng = np.random.default_rng(2)
    batch = pad_series([rng.normal(size=(2, 5)), rng.normal(size=(6, 5))])
    features = batch.features.requires_grad_(True)
    model(features, batch.lengths)[0, :2].sum().backward()
    assert features.grad is not None
    assert float(features.grad[1].abs().sum()) == 0.0
    assert float(features.grad[0, 2:].abs().sum()) == 0.0
    assert float(features.grad[0, :2].abs().sum()) > 0.0


def test_sequence_model_predicts_six_labels_per_slice_and_reads_its_neighbours() -> None:
    model = _sequence_model("lstm")
    x = torch.randn(1, 4, 5)
    base = model(x, torch.tensor([4]))
    assert base.shape == (1, 4, 6)
    moved = x.clone()
    moved[0, 3] += 1.0  # the last slice changes: the first one's output must too (backward RNN)
    assert not torch.allclose(model(moved, torch.tensor([4]))[0, 0], base[0, 0])
    with pytest.raises(ValueError, match="lstm or gru"):
        SliceSequenceModel(
            5, hidden=4, rnn="rnn", dropout=0.0, mean=torch.zeros(5), std=torch.ones(5)
        )


def test_loss_is_the_competition_metric() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, (30, 6)).astype(np.float32)
    logits = rng.normal(0, 2, (30, 6)).astype(np.float32)
    probabilities = 1 / (1 + np.exp(-logits.astype(np.float64)))
    expected = weighted_log_loss(labels.ravel(), probabilities.ravel(), np.tile([1] * 5 + [2], 30))
    assert float(weighted_bce(torch.from_numpy(logits), torch.from_numpy(labels))) == (
        pytest.approx(expected, rel=1e-5)
    )
    assert metric_loss(labels, probabilities) == pytest.approx(expected)


def test_cnn_gives_logits_from_its_pooled_embedding() -> None:
    model = SliceCnn("test_resnet", pretrained=False, pretrained_path=None).eval()
    logits, embeddings = model(torch.rand(2, 3, 32, 32))
    assert logits.shape == (2, 6) and embeddings.shape == (2, model.embedding_size)
    torch.testing.assert_close(logits, model.head(embeddings))


def test_folds_keep_patients_together() -> None:
    frame = pd.DataFrame(
        {"PatientID": [f"P{i // 3}" for i in range(30)], "any": [(i // 3) % 2 for i in range(30)]}
    )
    folds = _patient_folds(frame, 3)
    assert frame.assign(fold=folds).groupby("PatientID")["fold"].nunique().max() == 1
    assert sorted(set(folds.tolist())) == [0, 1, 2]
    usable = np.ones(30, bool)
    usable[4] = False
    for rows in fold_rows(folds, usable):
        assert not set(rows.fit) & set(rows.held_out) and 4 not in set(rows.fit) | set(
            rows.held_out
        )
    with pytest.raises(ValueError, match="at least 3 groups"):
        _patient_folds(frame.iloc[:6], 3)


@pytest.fixture(scope="module")
def stage1(tiny_ich_root: Path, tmp_path_factory: pytest.TempPathFactory):
    """Real stage 1 on the contract's tiny dataset: two folds of test_resnet, one epoch each."""
    task = load_task("rsna-ich")
    train, _ = task.split(task.load(tiny_ich_root))
    cache = tmp_path_factory.mktemp("cache")
    files = prepare_slices(train["path"].tolist(), cache, 32, crop_head=True)
    labels = train[list(SUBTYPES)].to_numpy(np.float32)
    cfg = SequenceConfig(model="test_resnet", image_size=32, folds=2, epochs=1, batch_size=8)
    folds = _patient_folds(train, 2)
    data = FoldData(files, labels, torch.device("cpu"), 0, init_seed=0)
    results = []
    for rows in fold_rows(folds, np.ones(len(train), bool)):
        torch.manual_seed(rows.fold)
        results.append(train_fold(cfg, rows, data, 600.0, lambda metrics, step: None))
    return train, files, folds, results


def test_every_training_slice_is_embedded_by_the_one_cnn_that_did_not_train_on_it(
    stage1: tuple[pd.DataFrame, list[Path], np.ndarray, list[FoldResult]],
) -> None:
    train, files, folds, results = stage1
    oof = out_of_fold(results, len(train))
    assert oof.embedded.all()
    np.testing.assert_array_equal(oof.source_fold, folds)
    for row in range(len(train)):
        fold = int(oof.source_fold[row])
        assert row not in set(oof.fit_rows[fold].tolist())
    # Each embedding is what its source CNN computes for that slice, and differs from the
    # embedding of the CNN that trained on it.
    for result in results:
        rows = result.rows.held_out
        own = embed(result.model, [files[i] for i in rows], 8, torch.device("cpu"), 0)[1]
        np.testing.assert_allclose(oof.embeddings[rows], own, rtol=1e-4, atol=1e-5)
        other = next(r for r in results if r is not result)
        seen = embed(other.model, [files[i] for i in rows], 8, torch.device("cpu"), 0)[1]
        assert not np.allclose(oof.embeddings[rows], seen, atol=1e-3)
    assert np.isfinite(oof.probabilities).all() and oof.probabilities.shape == (len(train), 6)


def test_out_of_fold_rejects_a_row_held_out_twice(
    stage1: tuple[pd.DataFrame, list[Path], np.ndarray, list[FoldResult]],
) -> None:
    train, _, _, results = stage1
    with pytest.raises(ValueError, match="already embedded"):
        out_of_fold([results[0], results[0]], len(train))


def test_head_box_ignores_thin_lines_and_empty_slices() -> None:
    image = np.zeros((120, 120, 3), np.float32)
    image[30:90, 40:100] = 0.8  # the head
    image[110, :] = 1.0  # a one-pixel head-rest line along the bottom
    box = head_box(image, kernel=9)
    assert box is not None
    assert box.top <= 30 and box.left <= 40 and box.bottom >= 90 and box.right >= 100
    assert box.bottom < 100  # the line, 20 pixels below the head, is left out
    assert head_box(np.zeros((50, 50, 3), np.float32), kernel=4) is None


def test_slices_are_cropped_windowed_and_cached_once(tiny_ich_root: Path, tmp_path: Path) -> None:
    task = load_task("rsna-ich")
    paths = task.load(tiny_ich_root)["path"].tolist()[:4]
    broken = tmp_path / "ID_broken.dcm"
    broken.write_bytes(b"not a DICOM file")
    files = prepare_slices([*paths, str(broken)], tmp_path / "cache", 32, crop_head=True)
    assert files[-1] is None and all(f is not None for f in files[:-1])
    image = np.load(files[0])
    assert image.shape == (3, 32, 32) and image.dtype == np.uint8 and image.max() == 255
    np.testing.assert_array_equal(image, slice_image(Path(paths[0]), 32, crop_head=True))
    stamps = [f.stat().st_mtime_ns for f in files[:-1]]
    again = prepare_slices(paths, tmp_path / "cache", 32, crop_head=True)
    assert [f.stat().st_mtime_ns for f in again] == stamps
    uncropped = prepare_slices(paths[:1], tmp_path / "cache", 32, crop_head=False)
    assert uncropped[0] != files[0]


def test_epoch_plan_runs_every_epoch_with_time_to_spare_and_one_without() -> None:
    plenty = epoch_plan(5, seconds=3600)
    while plenty.another():
        plenty.record(0.01)
    assert plenty.done == 5
    none_left = epoch_plan(5, seconds=0)
    assert none_left.another()
    none_left.record(0.01)
    assert not none_left.another() and none_left.planned == 1


def test_presets_resolve_and_bad_options_are_refused() -> None:
    for budget, preset in PRESETS.items():
        config = merge_overrides(SequenceConfig, [preset], [], where="solution")
        assert isinstance(config, SequenceConfig), budget
    assert PRESETS["gpu-full"]["pretrained"] and not PRESETS["smoke"].get("pretrained", False)
    with pytest.raises((ConfigError, ValueError), match="rnn"):
        merge_overrides(SequenceConfig, [], ["rnn=transformer"], where="solution")
    with pytest.raises((ConfigError, ValueError), match="test_embeddings"):
        merge_overrides(SequenceConfig, [], ["test_embeddings=median"], where="solution")
