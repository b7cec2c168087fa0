"""rsna-breast/intensity: an example third-party solution plug-in for the medbench harness."""

from harness_example_solution.solution import IntensityConfig, IntensitySolution

__all__ = ["IntensityConfig", "IntensitySolution"]
