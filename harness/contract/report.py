"""The findings of a contract: one result per check, as text (pytest) or a table (CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.table import Table

Outcome = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class CheckResult:
    name: str
    outcome: Outcome
    detail: str


@dataclass
class ContractReport:
    task: str
    solution: str
    checks: list[CheckResult]
    seconds: float
    workdir: Path
    """Data, results (run folders with their run.log) and the runs' working directories."""

    @property
    def passed(self) -> bool:
        return all(check.outcome != "fail" for check in self.checks)

    def as_text(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        lines = [f"contract of {self.task}/{self.solution} {verdict} in {self.seconds:.0f} s"]
        lines += [f"  {c.outcome.upper():4}  {c.name}: {c.detail}" for c in self.checks]
        if not self.passed:
            lines.append(f"  runs and logs: {self.workdir}")
        return "\n".join(lines)


def report_table(report: ContractReport) -> Table:
    """The report as a rich table: one row per check."""
    table = Table(title=f"contract: {report.task}/{report.solution} ({report.seconds:.0f} s)")
    for column in ("check", "result", "detail"):
        table.add_column(column, overflow="fold")
    style = {"pass": "[green]pass[/]", "fail": "[bold red]FAIL[/]", "skip": "[yellow]skip[/]"}
    for check in report.checks:
        table.add_row(check.name, style[check.outcome], check.detail)
    return table
