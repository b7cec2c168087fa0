"""The ``harness`` command: run, predict, sweep, list, score, report, data synth, data check.

Every command takes ``key=value`` arguments parsed by OmegaConf against a dataclass, so a
mistyped key is an error that names it.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from omegaconf import MISSING
from rich.console import Console
from rich.table import Table

from harness.api import Budget, DataProblem, HarnessError, Task
from harness.engine.config import (
    ConfigError,
    DataConfig,
    at_least,
    merge_overrides,
    parse_run_overrides,
)
from harness.engine.logsetup import configure_logging

if TYPE_CHECKING:  # the CLI starts without the runner's imports
    from harness.engine.observe import RunObserver
    from harness.engine.record import RunRecord

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
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="debug lines, and MLflow's and alembic's")
    ] = False,
) -> None:
    configure_logging(verbose)


def _budgets(ctx: typer.Context) -> Mapping[str, Budget]:
    """The budgets ``run`` and ``sweep`` look names up in: the built-in profiles, or the table
    given as the context object by whoever invokes the app in-process (tests with budgets of
    their own: ``CliRunner().invoke(app, args, obj=budgets)``)."""
    from harness.engine.budgets import BUDGETS

    return BUDGETS if ctx.obj is None else ctx.obj


@app.command()
def run(ctx: typer.Context, overrides: Overrides = None) -> None:
    """One scored, timed, budgeted run, recorded in its run folder and in MLflow.

    Ctrl-C or SIGTERM stops it within seconds and records it as interrupted (exit 130/143).
    Example: harness run task=rsna-breast solution=baseline budget=smoke seed=1
    """
    from harness.engine.runner import execute

    def start(display: RunObserver) -> RunRecord:
        cfg, budget, solution_args = parse_run_overrides(overrides or [], _budgets(ctx))
        return execute(cfg, budget, solution_args, progress=display)

    _run_and_summarise(start)


@app.command()
def predict(ctx: typer.Context, overrides: Overrides = None) -> None:
    """A finished run's saved solution predicts other data: a fresh, offline process, scored
    where the data has labels, recorded and tracked as a run linked to its source.

    The source must have saved its solution (fresh_predict=true, the default of the kaggle-*
    and gpu-full budgets). data=<folder> is short for data.root=<folder>.
    Example: harness predict run=<run id> data.synth_seed=1
    Example: harness predict run=results/runs/<run id> data=/data/rsna-breast-cancer-detection
    """
    from harness.engine.predict_again import parse_predict_args, plan_predict
    from harness.engine.runner import execute_plan, start_run

    def start(display: RunObserver) -> RunRecord:
        args = parse_predict_args(overrides or [])
        results = Path(args.results_dir).expanduser().resolve()
        tracking_uri = start_run(results, args.tracking_uri, args.offline)
        plan = plan_predict(args, _budgets(ctx))
        return execute_plan(plan, tracking_uri, progress=display)

    _run_and_summarise(start)


def _run_and_summarise(start: Callable[[RunObserver], RunRecord]) -> None:
    """Run ``start`` with the live display, then print the run's summary; exit 1 unless ok,
    128 + the signal where Ctrl-C or SIGTERM stopped it, 2 for an error in the request."""
    from harness.engine.run_display import RunDisplay
    from harness.engine.runner import RunInterrupted
    from harness.engine.summary import print_summary

    display = RunDisplay(console, interval_s=float(os.environ.get("HARNESS_PROGRESS_S", "10")))
    try:
        record = start(display)
    except RunInterrupted as exc:
        console.print(f"[bold yellow]interrupted:[/] {exc}", highlight=False, soft_wrap=True)
        console.print("the record of what was done is in the run folder above", highlight=False)
        raise typer.Exit(128 + (exc.signum or 2)) from None
    except HarnessError as exc:
        _fail(exc)
        return
    print_summary(console, record)
    if record.status != "ok":
        raise typer.Exit(1)


@app.command()
def sync(overrides: Overrides = None) -> None:
    """Push runs that MLflow lacks (server down, offline=true) from their run folders.

    Safe to repeat: nothing is pushed twice. Also marks runs whose harness process died as
    killed. Keys: results_dir (default results), tracking_uri (default: each run's own store).
    Example: harness sync tracking_uri=http://mlflow.internal:5000
    """
    from harness.engine.sync import FAILED, PUSHED, sync_runs

    try:
        args = _parse(SyncArgs, overrides)
        outcomes = sync_runs(Path(args.results_dir).expanduser().resolve(), args.tracking_uri)
    except HarnessError as exc:
        _fail(exc)
        return
    table = Table(title="sync")
    for column in ("run", "status", "MLflow", "store"):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        action = outcome.action if not outcome.error else f"{outcome.action}: {outcome.error}"
        style = {PUSHED: "green", FAILED: "red"}.get(outcome.action, "dim")
        table.add_row(outcome.run_id, outcome.status, f"[{style}]{action}[/]", outcome.tracking_uri)
    console.print(table)
    counts = {a: sum(o.action == a for o in outcomes) for a in {o.action for o in outcomes}}
    console.print(", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "no runs")
    if counts.get(FAILED):
        raise typer.Exit(1)


@dataclass
class SyncArgs:
    results_dir: str = "results"
    tracking_uri: str | None = None
    """Push every run to this store; default: the store each run was recorded for."""


@app.command()
def sweep(
    ctx: typer.Context,
    overrides: Overrides = None,
    force: Annotated[bool, typer.Option("--force", help="re-run runs that finished ok")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show the plan and what is skipped; run nothing")
    ] = False,
) -> None:
    """Many runs from one command: comma lists in any key make a grid.

    Runs whose config already finished ok (same config hash in MLflow) are skipped, so the
    same command resumes an interrupted sweep. Sweep keys: executor=local|ray, cpus=N,
    max_parallel=N, min_free_gb=GB, ray_address=ADDRESS.

    Example: harness sweep task=rsna-breast solution=ensemble,baseline seed=0,1,2 budget=smoke
    """
    from harness.engine.sweep.sweep import run_sweep

    try:
        result = run_sweep(
            overrides or [], console, force=force, dry_run=dry_run, budgets=_budgets(ctx)
        )
    except HarnessError as exc:
        _fail(exc)
        return
    if result.interrupted:
        raise typer.Exit(130)
    if result.failed:
        raise typer.Exit(1)


@app.command("list")
def list_plugins(
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            "--verbose",
            "-V",
            help="import each plug-in to show its version and whether it loads (slow)",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object only")] = False,
) -> None:
    """Tasks, solutions and budgets, from the installed packages' metadata (nothing imported).

    Example: harness list --check
    """
    from harness.engine.budgets import BUDGETS
    from harness.engine.plugin_list import as_json as listing_json
    from harness.engine.plugin_list import print_listing
    from harness.engine.registry import describe_plugins

    infos = describe_plugins(load=check)
    if as_json:
        print(json.dumps(listing_json(infos, BUDGETS.values()), indent=2))
    else:
        print_listing(console, infos, BUDGETS.values(), loaded=check)


@dataclass
class ScoreArgs:
    task: str | None = None
    submission: str | None = None
    answers: str | None = None
    """A solution file (``harness data answers`` writes one) or the Kaggle labels file."""
    run: str | None = None
    """A finished run to score again: its id (under results_dir/runs) or its folder."""
    results_dir: str = "results"
    bootstrap: int | None = at_least(0, None)
    """Resamples of the 95% CI (0: none); default 1000, with run= what the run used."""


@app.command()
def score(
    overrides: Overrides = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Grade a Kaggle-format submission CSV, or score a finished run again.

    Example: harness score task=rsna-breast submission=sub.csv answers=answers.csv
    Example: harness score run=results/runs/<run id>   (exit 1 if the recorded score differs)
    """
    from harness.api import InvalidSubmission
    from harness.engine.registry import load_task
    from harness.engine.rescore import DEFAULT_BOOTSTRAP, Rescore, rescore_run
    from harness.engine.scoring import score_submission

    rescored: Rescore | None = None
    try:
        args = _parse(ScoreArgs, overrides)
        if args.run is not None:
            others = [k for k in ("task", "submission", "answers") if getattr(args, k)]
            if others:
                raise HarnessError(f"run= takes the task and files from the run; drop {others[0]}=")
            rescored = rescore_run(args.run, Path(args.results_dir), args.bootstrap)
            scored = rescored.result
            task_name, metric = rescored.record.task, rescored.record.metric_name
        else:
            missing = [k for k in ("task", "submission", "answers") if not getattr(args, k)]
            if missing:
                raise HarnessError(
                    f"missing {', '.join(f'{k}=' for k in missing)}: give task=, submission= "
                    "and answers=, or run=<run id or folder> to score a finished run again"
                )
            task = load_task(args.task)
            answers = task.read_answers(Path(args.answers))
            bootstrap = DEFAULT_BOOTSTRAP if args.bootstrap is None else args.bootstrap
            scored = score_submission(task, Path(args.submission), answers, bootstrap)
            task_name, metric = task.name, task.metric_name
    except HarnessError as exc:
        if as_json:
            status = "invalid_submission" if isinstance(exc, InvalidSubmission) else "error"
            print(json.dumps({"error": str(exc), "status": status}))
            raise typer.Exit(2) from None
        _fail(exc)
        return
    mismatch = rescored is not None and not rescored.matches
    if as_json:
        result: dict[str, Any] = {"task": task_name, "metric": metric, "score": scored.score}
        if scored.ci_low is not None:
            result.update(ci_low=scored.ci_low, ci_high=scored.ci_high)
        if rescored is not None:
            result.update(
                run_id=rescored.record.run_id,
                recorded_score=rescored.record.score,
                matches_record=rescored.matches,
                notes=rescored.notes,
            )
        print(json.dumps(result))
    else:
        ci_text = (
            f" (95% CI {scored.ci_low:.4f}-{scored.ci_high:.4f})"
            if scored.ci_low is not None and scored.ci_high is not None
            else ""
        )
        console.print(f"{metric} = [bold]{scored.score:.4f}[/]{ci_text}")
        if rescored is not None:
            verdict = (
                f"[red]differs from the recorded {rescored.record.score!r}[/]"
                if mismatch
                else "[green]equals the recorded score[/]"
            )
            console.print(f"run {rescored.record.run_id}: {verdict}", soft_wrap=True)
            for note in rescored.notes:
                console.print(f"note: {note}", highlight=False, soft_wrap=True)
    if mismatch:
        raise typer.Exit(1)


@dataclass
class AnswersArgs:
    task: str = MISSING
    out: str = MISSING
    results_dir: str = "results"
    """Where the synthetic default dataset is generated (as harness run does)."""
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    """data.root=DIR for a Kaggle download; default: the synthetic dataset a run uses."""


@data_app.command("answers")
def data_answers(overrides: Overrides = None) -> None:
    """Write the holdout answers that runs are scored against, as the competition's solution
    file, for its own grader (Kaggle's metric code, mle-bench's grade.py).

    Example: harness data answers task=rsna-breast out=answers.csv data.root=/data/rsna-breast
    """
    from harness.engine.holdout import export_holdout_answers
    from harness.engine.registry import load_task

    try:
        args = _parse(AnswersArgs, overrides)
        task = load_task(args.task)
        results = Path(args.results_dir).expanduser().resolve()
        exported = export_holdout_answers(task, Path(args.out), args.data, results)
    except HarnessError as exc:
        _fail(exc)
        return
    console.print(
        f"wrote {exported.rows} holdout answer rows of {task.name} ({exported.data.kind} data "
        f"{exported.data.root}) to {exported.path}",
        highlight=False,
        soft_wrap=True,
    )


@dataclass
class SynthArgs:
    task: str = MISSING
    out: str = MISSING
    seed: int = at_least(0, 0)


@data_app.command("synth")
def data_synth(overrides: Overrides = None) -> None:
    """Write a synthetic dataset in the task's Kaggle layout.

    Other keys set the generator's parameters, e.g.
    harness data synth task=rsna-breast out=/tmp/breast n_patients=300 height=512 width=416
    """
    from harness.engine.datasets import synth_config, synthesize
    from harness.engine.registry import load_task

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
    """Decode every image's pixel data too (hours on a full download: see limit and sample)."""
    limit: int | None = at_least(0, None)
    """Open only the first N files found (every row's file is still looked for)."""
    sample: int | None = at_least(0, None)
    """Open N files found chosen at random with seed (every row's file is still looked for);
    not with limit."""
    seed: int = at_least(0, 0)
    """The seed of sample: the same seed opens the same files."""
    workers: int | None = at_least(1, None)
    """Processes that open the files; default: the CPU count, at most 16; 1 = no pool."""


@data_app.command("check")
def data_check(overrides: Overrides = None) -> None:
    """Validate a dataset on disk (columns, files, DICOM decoding); exit 1 on problems.

    Each problem in a file is printed as soon as it is found, with a progress bar on stderr.
    Example: harness data check task=rsna-breast root=/data/rsna-breast-cancer-detection sample=500
    """
    from harness.engine.registry import load_task

    printed: list[DataProblem] = []

    def show(problem: DataProblem) -> None:
        printed.append(problem)
        console.print(f"[red]-[/] {problem}", highlight=False, soft_wrap=True)

    try:
        args = _parse(CheckArgs, overrides)
        if args.limit is not None and args.sample is not None:
            raise ConfigError("give limit (the first N files) or sample (N at random), not both")
        task = load_task(args.task)
        options = _check_options(task, args, show)
        problems = task.check(Path(args.root), **options)
    except HarnessError as exc:
        _fail(exc)
        return
    if not problems:
        console.print(f"[green]ok:[/] {args.root} is a usable {task.name} dataset")
        return
    for problem in _not_yet_printed(problems, printed):
        console.print(f"[red]-[/] {problem}", highlight=False, soft_wrap=True)
    console.print(f"[bold red]{len(problems)} problem(s)[/] in {args.root}")
    raise typer.Exit(1)


def _check_options(
    task: Task, args: CheckArgs, on_problem: Callable[[DataProblem], None]
) -> dict[str, Any]:
    """The keyword arguments of ``task.check``: an Opening, or ``limit`` alone for a plug-in
    written before ``opening`` (which then cannot take ``sample``)."""
    from harness.kit.file_checks import Opening, default_workers

    if "opening" in inspect.signature(task.check).parameters:
        workers = args.workers or default_workers()
        opening = Opening(args.limit, args.sample, args.seed, workers, on_problem)
        return {"decode": args.decode, "opening": opening}
    if args.sample is not None:
        raise ConfigError(f"task {task.name}'s check takes no sample=; use limit=")
    return {"decode": args.decode, "limit": args.limit}


def _not_yet_printed(problems: list[DataProblem], printed: list[DataProblem]) -> list[DataProblem]:
    """``problems`` less one occurrence of each problem ``on_problem`` printed already."""
    left = Counter(printed)
    rest = []
    for problem in problems:
        if left[problem] > 0:
            left[problem] -= 1
        else:
            rest.append(problem)
    return rest


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
    bootstrap: int = at_least(1, 1000)
    """Paired bootstrap resamples for the CIs and the comparisons with each leader."""
    rescore: bool = False
    """Score every run's submission again from the data, even where its folder kept its scores."""


@app.command()
def report(overrides: Overrides = None) -> None:
    """Leaderboard of the tracked runs as Markdown and self-contained HTML, with plots.

    Example: harness report task=rsna-breast budget=kaggle-p100 since=2024-05-01
    """
    from harness.engine.report import build_report
    from harness.engine.sync import settle_orphans
    from harness.engine.tracking import default_tracking_uri

    try:
        args = _parse(ReportArgs, overrides)
        _check_report_filters(args)
        results = Path(args.results_dir).expanduser().resolve()
        settle_orphans(results)  # a run whose harness died shows as killed, not running
        files = build_report(
            args.tracking_uri or default_tracking_uri(results),
            Path(args.out).expanduser() if args.out else results,
            task=args.task,
            budget=args.budget,
            since=args.since,
            all_versions=args.all_versions,
            bootstrap=args.bootstrap,
            rescore=args.rescore,
        )
    except HarnessError as exc:
        _fail(exc)
        return
    tables, runs = len(files.report.sections), len(files.report.runs)
    console.print(f"{tables} table(s) from {runs} run(s):")
    for path in (files.markdown, files.html):
        console.print(f"  {path}", highlight=False, soft_wrap=True)


def _check_report_filters(args: ReportArgs) -> None:
    """A filter that matches no installed task or no budget is a typo: name the nearest."""
    from harness.engine.budgets import BUDGETS
    from harness.engine.registry import task_names
    from harness.engine.report.collect import parse_since
    from harness.engine.suggest import did_you_mean

    tasks = task_names()
    if args.task is not None and args.task not in tasks:
        raise ConfigError(
            f"unknown task={args.task}{did_you_mean(args.task, tasks)}; "
            f"tasks are {', '.join(tasks)} (see `harness list`)"
        )
    # Runs may carry a budget that is no longer defined here (a plug-in's own, an older
    # harness's), so only a name next to a defined one is taken for a typo.
    if args.budget is not None and args.budget not in BUDGETS:
        nearest = did_you_mean(args.budget, BUDGETS)
        if nearest:
            raise ConfigError(
                f"unknown budget={args.budget}{nearest}; budgets are {', '.join(BUDGETS)}"
            )
    parse_since(args.since)


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
    from harness.contract.names import resolve_solution
    from harness.contract.report import report_table
    from harness.contract.solution import run_contract

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
    path: str | None = None
    """The package's folder, created if needed; default ./harness-solution-<name>."""
    module: str | None = None
    """Python package name; default harness_solution_<name with _ for ->."""


@new_app.command("solution")
def new_solution(overrides: Overrides = None) -> None:
    """Write a solution plug-in package that passes the contract as written.

    Example: harness new solution task=rsna-breast name=my-model path=~/src/my-model
    """
    from harness.engine.scaffold import new_solution as scaffold

    try:
        args = _parse(NewSolutionArgs, overrides)
        path = Path(args.path) if args.path is not None else None
        package = scaffold(args.task, args.name, path, module=args.module)
    except HarnessError as exc:
        _fail(exc)
        return
    console.print(
        f"wrote {package.task}/{package.name} to {package.root}:", highlight=False, soft_wrap=True
    )
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
