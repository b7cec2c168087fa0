"""The ``harness`` command: run, sweep, list, score, data synth, data check.

Every command takes ``key=value`` arguments parsed by OmegaConf against a dataclass, so a
mistyped key is an error that names it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from omegaconf import MISSING
from rich.console import Console
from rich.table import Table

from harness.api import HarnessError
from harness.config import merge_overrides, parse_run_overrides

app = typer.Typer(
    help="Benchmark harness for Kaggle medical-imaging solutions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Synthetic data and checks of real Kaggle downloads.")
app.add_typer(data_app, name="data")
new_app = typer.Typer(help="Scaffolds for new plug-ins.")
app.add_typer(new_app, name="new")

console = Console()
Overrides = Annotated[list[str] | None, typer.Argument(help="key=value arguments")]


def _fail(exc: HarnessError) -> None:
    console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("alembic", "mlflow", "urllib3", "openjpeg"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def run(overrides: Overrides = None) -> None:
    """One scored, timed, budgeted run, recorded in MLflow.

    Example: harness run task=rsna-breast solution=baseline budget=smoke seed=1
    """
    from harness.runner import execute
    from harness.summary import print_summary

    try:
        cfg, solution_args = parse_run_overrides(overrides or [])
        record = execute(cfg, solution_args, progress=lambda msg: console.print(f"  {msg}"))
    except HarnessError as exc:
        _fail(exc)
        return
    print_summary(console, record)
    if record.status != "ok":
        raise typer.Exit(1)


@app.command()
def sweep(
    overrides: Overrides = None,
    force: Annotated[bool, typer.Option("--force", help="re-run runs that finished ok")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show the plan and what is skipped; run nothing")
    ] = False,
) -> None:
    """Many runs from one command: comma lists in any key make a grid.

    Runs whose config already finished ok (same config hash in MLflow) are skipped, so the
    same command resumes an interrupted sweep. Sweep keys: executor=local|ray, cpus=N,
    max_parallel=N, ray_address=ADDRESS.

    Example: harness sweep task=rsna-breast solution=ensemble,baseline seed=0,1,2 budget=smoke
    """
    from harness.sweep.sweep import run_sweep

    try:
        result = run_sweep(overrides or [], console, force=force, dry_run=dry_run)
    except HarnessError as exc:
        _fail(exc)
        return
    if result.interrupted:
        raise typer.Exit(130)
    if result.failed:
        raise typer.Exit(1)


@app.command("list")
def list_plugins() -> None:
    """Tasks, solutions (with availability) and budgets."""
    from harness.budgets import BUDGETS
    from harness.registry import describe_plugins

    table = Table(title="Plug-ins")
    for column in ("kind", "name", "version", "package", "status"):
        table.add_column(column)
    infos = describe_plugins()
    for info in infos:
        status = "[green]available[/]" if info.available else "[red]unavailable[/] (see below)"
        table.add_row(info.kind, info.name, info.version, info.package, status)
    console.print(table)
    for info in infos:
        if not info.available:
            console.print(
                f"[red]{info.kind} {info.name} unavailable:[/] {info.reason}", soft_wrap=True
            )
    budgets = Table(title="Budgets")
    for column in ("name", "device", "GPUs", "GPU mem cap", "prepare/fit/predict", "about"):
        budgets.add_column(column)
    for b in BUDGETS.values():
        cap = f"{b.gpu_memory_gb:g} GB" if b.gpu_memory_gb else "-"
        limits = "/".join(_duration(s) for s in (b.prepare_s, b.fit_s, b.predict_s))
        budgets.add_row(b.name, b.device, str(b.gpus), cap, limits, b.description)
    console.print(budgets)


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:g}h" if seconds >= 3600 else f"{seconds / 60:g}m"


@dataclass
class ScoreArgs:
    task: str = MISSING
    submission: str = MISSING
    answers: str = MISSING
    bootstrap: int = 1000


@app.command()
def score(
    overrides: Overrides = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Grade a Kaggle-format submission CSV against an answers file.

    Example: harness score task=rsna-breast submission=sub.csv answers=train.csv
    """
    import pandas as pd

    from harness.registry import load_task
    from harness.runner import CI_SEED
    from harness.stats import bootstrap_ci

    try:
        args = _parse(ScoreArgs, overrides)
        task = load_task(args.task)
        answers = task.read_answers(Path(args.answers))
        submission_path = Path(args.submission)
        if not submission_path.is_file():
            raise HarnessError(f"submission={submission_path} does not exist")
        aligned = task.validate(pd.read_csv(submission_path), answers)
        value = task.score(aligned, answers)
        result: dict[str, Any] = {"task": task.name, "metric": task.metric_name, "score": value}
        if args.bootstrap > 0:
            ci = bootstrap_ci(
                task.score, aligned, answers, task.groups(answers), n=args.bootstrap, seed=CI_SEED
            )
            result.update(ci_low=ci.low, ci_high=ci.high)
    except HarnessError as exc:
        if as_json:
            print(json.dumps({"error": str(exc), "status": "invalid_submission"}))
            raise typer.Exit(2) from None
        _fail(exc)
        return
    if as_json:
        print(json.dumps(result))
    else:
        ci_text = (
            f" (95% CI {result['ci_low']:.4f}-{result['ci_high']:.4f})"
            if "ci_low" in result
            else ""
        )
        console.print(f"{task.metric_name} = [bold]{value:.4f}[/]{ci_text}")


@dataclass
class SynthArgs:
    task: str = MISSING
    out: str = MISSING
    seed: int = 0


@data_app.command("synth")
def data_synth(overrides: Overrides = None) -> None:
    """Write a synthetic dataset in the task's Kaggle layout.

    Other keys set the generator's parameters, e.g.
    harness data synth task=rsna-breast out=/tmp/breast n_patients=300 height=512 width=416
    """
    from harness.datasets import synth_config, synthesize
    from harness.registry import load_task

    try:
        own, generator = _partition(SynthArgs, overrides or [])
        args = _parse(SynthArgs, own)
        task = load_task(args.task)
        generator_values = {k: v for k, v in (a.split("=", 1) for a in generator)}
        config = synth_config(task, generator_values)
        out = synthesize(task, Path(args.out), config, args.seed)
    except HarnessError as exc:
        _fail(exc)
        return
    console.print(f"wrote synthetic {task.name} data to {out}")


@dataclass
class CheckArgs:
    task: str = MISSING
    root: str = MISSING
    decode: bool = True
    """Decode every image's pixel data too (hours on a full download: see limit)."""
    limit: int | None = None
    """Open at most this many files (every file's existence is still checked)."""


@data_app.command("check")
def data_check(overrides: Overrides = None) -> None:
    """Validate a dataset on disk (columns, files, DICOM decoding); exit 1 on problems.

    Example: harness data check task=rsna-breast root=/data/rsna-breast-cancer-detection limit=500
    """
    from harness.registry import load_task

    try:
        args = _parse(CheckArgs, overrides)
        task = load_task(args.task)
        problems = task.check(Path(args.root), decode=args.decode, limit=args.limit)
    except HarnessError as exc:
        _fail(exc)
        return
    if not problems:
        console.print(f"[green]ok:[/] {args.root} is a usable {task.name} dataset")
        return
    for problem in problems:
        console.print(f"[red]-[/] {problem}", highlight=False, soft_wrap=True)
    console.print(f"[bold red]{len(problems)} problem(s)[/] in {args.root}")
    raise typer.Exit(1)


@dataclass
class ReportArgs:
    results_dir: str = "results"
    tracking_uri: str | None = None
    """MLflow store to read; default: $MLFLOW_TRACKING_URI, else sqlite under results_dir."""
    task: str | None = None
    budget: str | None = None
    since: str | None = None
    """Only runs started on or after this ISO date or date-time (UTC without an offset)."""
    all_versions: bool = False
    """Also runs of older task and solution versions (default: the latest of each only)."""
    out: str | None = None
    """Folder for leaderboard.md, leaderboard.html and the plots; default: results_dir."""
    bootstrap: int = 1000
    """Paired bootstrap resamples for the CIs and the comparisons with each leader."""


@app.command()
def report(overrides: Overrides = None) -> None:
    """Leaderboard of the tracked runs as Markdown and self-contained HTML, with plots.

    Example: harness report task=rsna-breast budget=kaggle-p100 since=2024-05-01
    """
    from harness.report import build_report
    from harness.tracking import default_tracking_uri

    try:
        args = _parse(ReportArgs, overrides)
        results = Path(args.results_dir).expanduser().resolve()
        files = build_report(
            args.tracking_uri or default_tracking_uri(results),
            Path(args.out).expanduser() if args.out else results,
            task=args.task,
            budget=args.budget,
            since=args.since,
            all_versions=args.all_versions,
            bootstrap=args.bootstrap,
        )
    except HarnessError as exc:
        _fail(exc)
        return
    tables, runs = len(files.report.sections), len(files.report.runs)
    console.print(f"{tables} table(s) from {runs} run(s):")
    for path in (files.markdown, files.html):
        console.print(f"  {path}", highlight=False, soft_wrap=True)


@dataclass
class ContractArgs:
    solution: str = MISSING
    """<task>/<solution>, or a solution name (with task= where several tasks have one)."""
    task: str | None = None
    workdir: str | None = None
    """Keep the data, runs and logs here (default: a temporary folder, kept only on failure)."""


@app.command("check")
def check_contract(overrides: Overrides = None) -> None:
    """Run the contract suite on one solution plug-in; exit 1 if a check fails.

    Example: harness check solution=rsna-breast/baseline
    """
    from harness.contract import report_table, resolve_solution, run_contract

    try:
        args = _parse(ContractArgs, overrides)
        task, name = resolve_solution(args.solution, args.task)
        workdir = Path(args.workdir) if args.workdir else None
        report = run_contract(
            task, name, workdir, progress=lambda msg: console.print(f"  {msg}", highlight=False)
        )
    except HarnessError as exc:
        _fail(exc)
        return
    console.print(report_table(report))
    if not report.passed:
        console.print(
            f"[bold red]contract failed[/]; runs and logs: {report.workdir}", soft_wrap=True
        )
        raise typer.Exit(1)


@dataclass
class NewSolutionArgs:
    task: str = MISSING
    name: str = MISSING
    path: str = "."
    """Folder that receives the package folder harness-solution-<name>."""
    module: str | None = None
    """Python package name; default harness_solution_<name with _ for ->."""


@new_app.command("solution")
def new_solution(overrides: Overrides = None) -> None:
    """Write a solution plug-in package that passes the contract as written.

    Example: harness new solution task=rsna-breast name=my-model path=~/src
    """
    from harness.scaffold import new_solution as scaffold

    try:
        args = _parse(NewSolutionArgs, overrides)
        package = scaffold(args.task, args.name, Path(args.path), module=args.module)
    except HarnessError as exc:
        _fail(exc)
        return
    console.print(f"wrote {package.task}/{package.name} in {package.root}:", highlight=False)
    for path in package.files:
        console.print(f"  {path.relative_to(package.root)}", highlight=False)
    console.print("next:")
    for step in package.next_steps():
        console.print(f"  {step}", highlight=False, soft_wrap=True)


def _partition(schema: type, args: list[str]) -> tuple[list[str], list[str]]:
    names = {f"{f.name}=" for f in dataclasses.fields(schema)}
    own = [a for a in args if any(a.startswith(n) for n in names)]
    return own, [a for a in args if a not in own]


def _parse(schema: type, args: list[str] | None) -> Any:
    return merge_overrides(schema, [], list(args or []), where="")


if __name__ == "__main__":
    app()
