"""The contract suites: what every plug-in meets, checked by running it for real.

``harness.contract.solution`` holds a solution plug-in to it (what ``harness check`` runs);
a plug-in's own tests call ``assert_contract``, which raises with the report when a check
fails. ``harness.contract.task`` holds a task to the task contract (``assert_task_conforms``).
The other modules are the solution suite's parts: the data it synthesizes, the sandbox a run
goes in, the guard that hides the label files, what changed on disk, the checks and their
report.
"""

from harness.contract.solution import assert_contract
from harness.contract.task import assert_task_conforms

__all__ = ["assert_contract", "assert_task_conforms"]
