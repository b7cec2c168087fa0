"""Sweeps: many runs from one command, on this machine's GPUs or a Ray cluster.

``plan`` expands and validates the grid and hashes each run's config, ``completed`` finds
what already finished in MLflow, the executors (``local``, ``ray_executor``) run the rest,
``board`` and ``display`` show them live and summarise.
"""
