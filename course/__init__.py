"""Shared plumbing for the course notebooks.

The code that teaches an idea (a VAE, an RNN cell, a loss) lives in the notebooks.
This package holds what is not the lesson: setup, data, the training loop, plots,
widgets and answer checks, plus models that a later module reuses after an
earlier one taught them.
"""

from course.runtime import check_environment, setup

__all__ = ["check_environment", "setup"]
__version__ = "0.1.0"
