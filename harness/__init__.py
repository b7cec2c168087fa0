"""Benchmark harness for Kaggle medical-imaging solutions: the engine.

It knows no task or solution by name; they are plug-ins found through entry points.
"""

__version__ = "0.1.0"
