"""The engine: runs, budgets, records, tracking, sweeps, reports and the plug-in registry.

It knows no task or solution by name (they are plug-ins found through entry points) and
talks to them only through ``harness.api``.
"""
