"""The contract suites: what every plug-in meets, checked by running it for real.

``harness.contract.solution`` holds a solution plug-in to it (what ``harness check`` runs);
a plug-in's own tests call ``assert_contract``, which raises with the report when a check
fails. The other modules are its parts: the data it synthesizes, the sandbox a run goes in,
the guard that hides the label files, what changed on disk, the checks and their report.
"""

from harness.contract.solution import assert_contract

__all__ = ["assert_contract"]
