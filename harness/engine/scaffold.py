"""``harness new solution``: a ready-to-edit solution plug-in package.

The package is what a third party ships: a ``pyproject.toml`` registering the solution under
the ``harness.solutions`` entry point, the solution module (an options dataclass, presets per
budget, ``fit`` and ``predict``) and a test that runs the contract suite on it. It passes the
contract as written: the solution builds the task's own answers for the test rows with each
label column at its most frequent training value (no mask, for the segmentation tasks), keeps
the task's ``submission_columns`` and puts each numeric target's training mean in them, so one
template serves every task and the harness still knows no task by name. Templates:
``harness/engine/scaffold_templates/*.tmpl`` (``string.Template``).
"""

from __future__ import annotations

import importlib.util
import keyword
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from harness.api import HarnessError
from harness.engine.registry import load_task, solution_names

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
"""Solution names: what ``solution=<name>`` selects; ``/`` separates task and solution."""

_FILES = {
    "pyproject.toml": "pyproject.toml.tmpl",
    "{module}/__init__.py": "__init__.py.tmpl",
    "{module}/solution.py": "solution.py.tmpl",
    "tests/test_{module}.py": "test_solution.py.tmpl",
}


class ScaffoldError(HarnessError):
    """A name or a place that the scaffold cannot use."""


@dataclass(frozen=True)
class Scaffold:
    """What ``new_solution`` wrote."""

    root: Path
    files: list[Path]
    task: str
    name: str

    def next_steps(self) -> list[str]:
        return [
            f"edit {self.files[2]}",
            f"pip install -e {self.root}",
            f"harness check solution={self.task}/{self.name}",
            f"harness run task={self.task} solution={self.name} budget=smoke",
        ]


def new_solution(
    task: str, name: str, path: Path | None = None, module: str | None = None
) -> Scaffold:
    """Write the package ``harness-solution-<name>`` into the folder ``path`` (created if
    needed; default ``./harness-solution-<name>``); never overwrites a file."""
    load_task(task)  # an unknown task is an error with the nearest name
    if not _NAME.fullmatch(name):
        raise ScaffoldError(
            f"solution name {name!r}: use lower-case letters, digits and single '-' between "
            "them, starting with a letter (e.g. name=effnet-b3)"
        )
    if name in solution_names(task):
        raise ScaffoldError(
            f"task {task} already has a solution named {name!r} (see `harness list`); "
            "a second package registering it would clash: pick another name="
        )
    module = module or f"harness_solution_{name.replace('-', '_')}"
    if not module.isidentifier() or keyword.iskeyword(module) or not module.islower():
        raise ScaffoldError(
            f"module={module!r} is not a lower-case Python identifier (e.g. module=my_model)"
        )
    if importlib.util.find_spec(module) is not None:
        raise ScaffoldError(
            f"a module named {module!r} is already importable here; pick another module="
        )
    distribution = f"harness-solution-{name}"
    camel = "".join(part.capitalize() for part in name.split("-"))
    values = {
        "task": task,
        "name": name,
        "module": module,
        "distribution": distribution,
        "class_name": f"{camel}Solution",
        "config_class": f"{camel}Config",
    }
    root = (Path(distribution) if path is None else path).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise ScaffoldError(f"path={root} is a file; give the folder to write the package into")
    targets = {root / relative.format(module=module): tmpl for relative, tmpl in _FILES.items()}
    existing = [str(target) for target in targets if target.exists()]
    if existing:
        raise ScaffoldError(
            f"refusing to overwrite {', '.join(existing)}; choose another path= or name="
        )
    templates = resources.files("harness.engine") / "scaffold_templates"
    for target, template in targets.items():
        text = Template(templates.joinpath(template).read_text()).substitute(values)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return Scaffold(root, list(targets), task, name)
