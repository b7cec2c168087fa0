import json

from harness.engine.record import RECORD_FILE, PhaseStats, RunRecord


def _record() -> RunRecord:
    return RunRecord(
        run_id="r1",
        task="t",
        task_version="1",
        split_version="v1",
        solution="s",
        solution_version="1",
        budget={"name": "smoke", "gpus": 0},
        seed=0,
        config={"a": 1},
        metric_name="m",
        greater_is_better=True,
        data_root="/d",
        data_kind="synthetic",
        created_at="now",
    )


def test_save_is_atomic_and_round_trips(tmp_path) -> None:
    record = _record()
    record.phases["fit"] = PhaseStats(wall_s=1.5, cpu_s=2.0, peak_rss_mb=100.0)
    path = record.save(tmp_path)
    assert path.name == RECORD_FILE
    assert [p.name for p in tmp_path.iterdir()] == [RECORD_FILE]  # no temporary file left
    loaded = RunRecord.load(path)
    assert loaded == record
    assert json.loads(path.read_text())["phases"]["fit"]["wall_s"] == 1.5


def test_save_overwrites_previous_state(tmp_path) -> None:
    record = _record()
    record.save(tmp_path)
    record.status = "timeout"
    record.save(tmp_path)
    assert RunRecord.load(tmp_path / RECORD_FILE).status == "timeout"
