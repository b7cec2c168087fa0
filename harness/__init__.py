"""Benchmark harness for Kaggle medical-imaging solutions.

``harness.api`` is the contract between the engine and the plug-ins; ``harness.kit`` is what
tasks and solutions build from; ``harness.engine`` runs, times, tracks and reports them;
``harness.contract`` is the conformance suite a plug-in's own tests call; ``harness.cli`` is
the command line.
"""

__version__ = "0.1.0"
