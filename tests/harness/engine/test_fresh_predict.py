"""Predict in a fresh process from what fit saved, offline: real run processes, real sockets."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.api import Budget
from harness.engine.budgets import BUDGETS
from harness.engine.config import ConfigError, parse_run_overrides
from harness.engine.record import ARTIFACTS_DIR, RECORD_FILE, RunRecord
from harness.kit.artefacts import PICKLE_FILE

pytestmark = pytest.mark.usefixtures("test_solutions")

SMOKE = BUDGETS["smoke"]
OFFLINE = "network access during predict is not allowed (offline, as Kaggle's code competitions"


@pytest.fixture
def listener() -> Iterator[int]:
    """The port of a socket listening on 127.0.0.1 (connects succeed through its backlog)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        yield int(server.getsockname()[1])


def test_the_kaggle_budgets_predict_fresh_and_the_cpu_ones_in_the_fit_process() -> None:
    fresh = {name for name, budget in BUDGETS.items() if budget.fresh_predict}
    assert fresh == {"kaggle-p100", "kaggle-t4", "gpu-full"}


def test_offline_without_a_fresh_process_is_refused_before_the_run() -> None:
    with pytest.raises(ConfigError, match=r"offline_predict=true needs .* fresh_predict=true"):
        parse_run_overrides(["task=rsna-breast", "solution=constant", "offline_predict=true"])


def test_state_saved_by_fit_reaches_a_fresh_predict_process_and_save_load_are_timed(
    tmp_path: Path, tiny_breast_root: Path, run_breast: Callable[..., RunRecord]
) -> None:
    record = run_breast(
        tmp_path / "results",
        tiny_breast_root,
        "solution=stateful",
        "fresh_predict=true",
        "solution.save_sleep_s=1.5",
        "solution.load_sleep_s=1.5",
    )

    assert record.status == "ok", record.error
    assert record.fresh_predict and record.offline_predict
    assert record.score is not None
    assert list(record.phases) == ["prepare", "fit", "predict"]
    assert record.phases["fit"].wall_s >= 1.5, "save counts in fit"
    assert record.phases["predict"].wall_s >= 1.5, "load counts in predict"
    assert all(stats.peak_rss_mb > 0 for stats in record.phases.values())
    assert record.extra["fit_pid"] != record.extra["predict_pid"]
    assert (Path(record.run_dir) / ARTIFACTS_DIR / PICKLE_FILE).is_file(), "torch never imported"
    assert RunRecord.load(Path(record.run_dir) / RECORD_FILE) == record


def test_without_fresh_predict_one_process_runs_every_phase(
    tmp_path: Path, tiny_breast_root: Path, run_breast: Callable[..., RunRecord]
) -> None:
    record = run_breast(tmp_path / "results", tiny_breast_root, "solution=stateful")

    assert record.status == "ok", record.error
    assert not record.fresh_predict and not record.offline_predict
    assert record.extra["fit_pid"] == record.extra["predict_pid"]
    assert not (Path(record.run_dir) / ARTIFACTS_DIR).exists()


def test_state_that_save_does_not_carry_fails_predict_with_a_clear_message(
    tmp_path: Path, tiny_breast_root: Path, run_breast: Callable[..., RunRecord]
) -> None:
    record = run_breast(
        tmp_path / "results", tiny_breast_root, "solution=unsaved", "fresh_predict=true"
    )

    assert record.status == "failed"
    assert record.failed_phase == "predict"
    assert "predict before fit" in record.error
    assert "predict ran in a fresh process, offline, with only what fit saved" in record.error
    assert "Solution.save" in record.error
    assert set(record.phases) == {"prepare", "fit"}


def test_a_lookup_at_predict_time_fails_offline_naming_the_phase(
    tmp_path: Path, tiny_breast_root: Path, run_breast: Callable[..., RunRecord]
) -> None:
    record = run_breast(
        tmp_path / "results", tiny_breast_root, "solution=network", "fresh_predict=true"
    )

    assert (record.status, record.failed_phase) == ("failed", "predict")
    assert record.error.startswith(f"NetworkBlocked: {OFFLINE}")
    assert "tried to reach example.com:80" in record.error


def test_a_connect_at_predict_time_fails_offline_but_the_same_in_fit_is_allowed(
    tmp_path: Path, tiny_breast_root: Path, listener: int, run_breast: Callable[..., RunRecord]
) -> None:
    address = ["solution.host=127.0.0.1", f"solution.port={listener}", "fresh_predict=true"]
    in_predict = run_breast(tmp_path / "results", tiny_breast_root, "solution=network", *address)
    in_fit = run_breast(
        tmp_path / "results", tiny_breast_root, "solution=network", *address, "solution.phase=fit"
    )

    assert in_predict.status == "failed" and in_predict.failed_phase == "predict"
    assert f"{OFFLINE} run): tried to connect to 127.0.0.1:{listener}" in in_predict.error
    assert in_fit.status == "ok", in_fit.error
    assert in_fit.extra["network"] == "reached"


def test_offline_predict_false_lets_the_fresh_process_connect(
    tmp_path: Path, tiny_breast_root: Path, listener: int, run_breast: Callable[..., RunRecord]
) -> None:
    record = run_breast(
        tmp_path / "results",
        tiny_breast_root,
        "solution=network",
        "solution.host=127.0.0.1",
        f"solution.port={listener}",
        "fresh_predict=true",
        "offline_predict=false",
    )

    assert record.status == "ok", record.error
    assert record.fresh_predict and not record.offline_predict
    assert record.extra["network"] == "reached"


def test_a_budget_that_predicts_fresh_does_so_without_the_run_key(
    tmp_path: Path,
    tiny_breast_root: Path,
    make_budget: Callable[..., Budget],
    run_breast: Callable[..., RunRecord],
) -> None:
    kaggle_like = make_budget("kaggle-like", fresh_predict=True)
    record = run_breast(
        tmp_path / "results", tiny_breast_root, "solution=network", budget=kaggle_like
    )

    assert record.fresh_predict and record.offline_predict
    assert record.failed_phase == "predict" and OFFLINE in record.error


def test_a_fresh_predict_past_its_limit_is_killed_and_recorded_as_timeout(
    tmp_path: Path,
    tiny_breast_root: Path,
    make_budget: Callable[..., Budget],
    run_breast: Callable[..., RunRecord],
) -> None:
    tiny = make_budget("tiny", predict_s=2)
    record = run_breast(
        tmp_path / "results",
        tiny_breast_root,
        "solution=stateful",
        "fresh_predict=true",
        "solution.predict_sleep_s=120",
        budget=tiny,
    )

    assert record.status == "timeout"
    assert record.failed_phase == "predict"
    assert "phase predict exceeded its 2 s limit" in record.error
    assert set(record.phases) == {"prepare", "fit"}
