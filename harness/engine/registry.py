"""Plug-ins from entry points, loaded lazily.

Tasks register under ``harness.tasks`` as ``<task> = module:Class`` and solutions under
``harness.solutions`` as ``"<task>/<solution>" = module:Class``: the same path a third-party
package uses. Only the selected plug-in is imported; a plug-in whose import fails is reported
as unavailable with its reason and never breaks the others.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import sys
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from harness.api import HarnessError, Solution, Task
from harness.engine.suggest import did_you_mean

TASK_GROUP = "harness.tasks"
SOLUTION_GROUP = "harness.solutions"


class PluginError(HarnessError):
    """A plug-in that cannot be found, imported or used."""


@dataclass(frozen=True)
class PluginInfo:
    """One registered plug-in as `harness list` shows it."""

    kind: str
    name: str
    target: str
    package: str
    available: bool | None
    """None when only the metadata was read (``describe_plugins(load=False)``)."""
    version: str = ""
    """The plug-in's own version; known only once it is imported."""
    reason: str = ""
    package_version: str = ""


def _scan(group: str) -> tuple[dict[str, EntryPoint], dict[str, str]]:
    """Entry points by name, and the names that two packages register, with the message.

    A clash makes only that name unusable: the other plug-ins still load and list. Scanning
    reads every installed distribution's metadata, so a scan is kept per ``sys.path`` (a
    sweep resolves hundreds of grid points); putting a folder on ``sys.path`` scans anew,
    ``clear_plugin_cache()`` forgets every scan (a package installed into a folder already
    on the path).
    """
    return _scan_path(group, tuple(sys.path))


def clear_plugin_cache() -> None:
    """Forget the entry-point scans: the next lookup reads the installed packages again."""
    _scan_path.cache_clear()


@functools.cache
def _scan_path(group: str, _path: tuple[str, ...]) -> tuple[dict[str, EntryPoint], dict[str, str]]:
    found: dict[str, EntryPoint] = {}
    clashes: dict[str, str] = {}
    for ep in entry_points(group=group):
        previous = found.setdefault(ep.name, ep)
        if previous.value != ep.value:
            clashes[ep.name] = (
                f"two packages register {group} entry point {ep.name!r}: "
                f"{_package(previous)} ({previous.value}) and {_package(ep)} ({ep.value}); "
                "uninstall one or rename its entry point"
            )
    return found, clashes


def _entry_points(group: str) -> dict[str, EntryPoint]:
    return _scan(group)[0]


def _package(ep: EntryPoint) -> str:
    return ep.dist.name if ep.dist is not None else "?"


def task_names() -> list[str]:
    return sorted(_entry_points(TASK_GROUP))


def solution_names(task: str | None = None) -> list[str]:
    """Solution names of one task (``ensemble``) or, without a task, all as ``task/solution``."""
    keys = sorted(_entry_points(SOLUTION_GROUP))
    if task is None:
        return keys
    names = []
    for key in keys:
        prefix, _, name = key.partition("/")
        if prefix == task and name:
            names.append(name)
    return names


def _load(ep: EntryPoint, kind: str) -> object:
    """The entry point's target; a target that does not exist is told apart from a failed import
    (a typo in the package's entry point versus a missing dependency)."""
    where = f"{kind} plug-in {ep.name!r} ({ep.value}, from package {_package(ep)})"
    try:
        target: object = importlib.import_module(ep.module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and f"{ep.module}.".startswith(f"{exc.name}."):
            raise PluginError(
                f"{where} does not resolve: there is no module {exc.name!r}; fix the entry "
                "point in the package's pyproject.toml or reinstall the package"
            ) from exc
        raise PluginError(
            f"{where} failed to import: ModuleNotFoundError: {exc}. "
            "Check that its dependencies are installed."
        ) from exc
    except Exception as exc:
        raise PluginError(
            f"{where} failed to import: {type(exc).__name__}: {exc}. "
            "Check that its dependencies are installed."
        ) from exc
    for attr in ep.attr.split(".") if ep.attr else []:
        if not hasattr(target, attr):
            raise PluginError(
                f"{where} does not resolve: module {ep.module!r} has no attribute {ep.attr!r}; "
                "fix the entry point in the package's pyproject.toml"
            )
        target = getattr(target, attr)
    return target


def load_task(name: str) -> Task:
    """An instance of the named task."""
    eps, clashes = _scan(TASK_GROUP)
    if name in clashes:
        raise PluginError(clashes[name])
    if name not in eps:
        raise PluginError(
            f"unknown task {name!r}{did_you_mean(name, eps)}; "
            f"tasks are {', '.join(sorted(eps)) or 'none'} (see `harness list`)"
        )
    cls = _load(eps[name], "task")
    if not (inspect.isclass(cls) and issubclass(cls, Task)):
        raise PluginError(
            f"task entry point {name!r} ({eps[name].value}) is not a subclass of harness.api.Task"
        )
    if getattr(cls, "name", None) != name:
        raise PluginError(
            f"task entry point {name!r} points at {cls.__name__} whose name is "
            f"{getattr(cls, 'name', None)!r}; make them equal"
        )
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise PluginError(f"task {name!r} ({eps[name].value}) does not implement: {missing}")
    return cls()


def load_solution(task: str, name: str) -> type[Solution]:
    """The class of solution ``name`` of ``task``; the task itself must exist."""
    key = f"{task}/{name}"
    eps, clashes = _scan(SOLUTION_GROUP)
    if key in clashes:
        raise PluginError(clashes[key])
    tasks = _entry_points(TASK_GROUP)
    if task not in tasks and key in eps:
        raise _orphan_error(key, eps[key], task, tasks)
    if task not in tasks:
        load_task(task)  # raises the did-you-mean error for the task
    if key not in eps:
        names = solution_names(task)
        raise PluginError(
            f"unknown solution {name!r} for task {task!r}{did_you_mean(name, names)}; "
            f"its solutions are {', '.join(names) or 'none'} (see `harness list`)"
        )
    cls = _load(eps[key], "solution")
    _check_solution_class(cls, key, eps[key].value, task, name)
    assert isinstance(cls, type)
    return cls


def _check_solution_class(cls: object, key: str, target: str, task: str, name: str) -> None:
    if not inspect.isclass(cls):
        raise PluginError(f"solution entry point {key!r} ({target}) is not a class")
    missing = [m for m in ("fit", "predict") if not callable(getattr(cls, m, None))]
    if missing or not issubclass(cls, Solution):
        what = f"lacks {' and '.join(missing)}" if missing else "is not a harness.api.Solution"
        raise PluginError(
            f"solution entry point {key!r} ({target}) {what}; subclass harness.api.Solution "
            "and implement fit(train, ctx) and predict(test, ctx)"
        )
    if inspect.isabstract(cls):
        absent = ", ".join(sorted(cls.__abstractmethods__))
        raise PluginError(
            f"solution {key!r} ({target}) does not implement: {absent} "
            "(see harness.api.Solution: fit(train, ctx) and predict(test, ctx) are required)"
        )
    if task not in getattr(cls, "tasks", ()):
        raise PluginError(
            f"solution entry point {key!r} ({target}) is registered for task {task!r} but the "
            f"class declares tasks={getattr(cls, 'tasks', ())!r}"
        )
    if getattr(cls, "name", None) != name:
        raise PluginError(
            f"solution entry point {key!r} points at a class named {getattr(cls, 'name', None)!r}"
        )


def describe_plugins(*, load: bool = True) -> list[PluginInfo]:
    """Every registered task and solution, tasks first, each sorted by name.

    Without ``load`` only the installed packages' entry-point metadata is read: nothing is
    imported (importing every plug-in takes seconds and gigabytes, as each pulls in torch), and
    ``available`` is None except for a plug-in the metadata alone rules out (a name two packages
    register, a solution name without its task). With ``load`` each plug-in is imported in
    turn, so a broken one is reported with its reason and never stops the others.
    """
    tasks = _entry_points(TASK_GROUP)
    infos: list[PluginInfo] = []
    for kind, group in (("task", TASK_GROUP), ("solution", SOLUTION_GROUP)):
        eps, clashes = _scan(group)
        for key, ep in sorted(eps.items()):
            info = PluginInfo(
                kind, key, ep.value, _package(ep), None, package_version=_package_version(ep)
            )
            try:
                if key in clashes:
                    raise PluginError(clashes[key])
                if kind == "solution":
                    task, _ = _solution_key(key, ep)
                    if task not in tasks:
                        raise _orphan_error(key, ep, task, tasks)
                if load:
                    obj = load_task(key) if kind == "task" else load_solution(*key.split("/", 1))
                    info = dataclasses.replace(
                        info, available=True, version=str(getattr(obj, "version", ""))
                    )
            except (PluginError, ValueError, TypeError) as exc:
                info = dataclasses.replace(info, available=False, reason=str(exc))
            infos.append(info)
    return infos


def _orphan_error(key: str, ep: EntryPoint, task: str, tasks: dict[str, EntryPoint]) -> PluginError:
    """A solution registered for a task that no installed package provides."""
    return PluginError(
        f"solution plug-in {key!r} ({ep.value}, from package {_package(ep)}) "
        f"is registered for task {task!r}, which no installed package provides"
        f"{did_you_mean(task, tasks)}; tasks are {', '.join(sorted(tasks)) or 'none'}. "
        "Fix the entry point's name (<task>/<solution>) or install the task's package"
    )


def _package_version(ep: EntryPoint) -> str:
    return ep.dist.version if ep.dist is not None else ""


def _solution_key(key: str, ep: EntryPoint) -> tuple[str, str]:
    task, _, name = key.partition("/")
    if not (task and name):
        raise PluginError(
            f"solution entry point {key!r} ({ep.value}, from package {_package(ep)}) must be "
            "named '<task>/<solution>', e.g. 'rsna-breast/baseline'"
        )
    return task, name
