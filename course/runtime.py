"""Seeding, threads and plot defaults: the first call in every notebook."""

from __future__ import annotations

import os
import platform
import random
import sys
from importlib import metadata

import numpy as np
from threadpoolctl import threadpool_limits

#: The packages whose versions ``check_environment`` reports (the ones a learner's numbers depend on).
CHECKED_PACKAGES: tuple[str, ...] = ("torch", "nbgrader", "ipywidgets", "matplotlib", "numpy", "scikit-learn")

#: Python versions the course installs on (``requires-python`` in pyproject.toml says the same).
SUPPORTED_PYTHONS: tuple[tuple[int, int], ...] = ((3, 11), (3, 12), (3, 13))


def pinned_versions() -> dict[str, str]:
    """The exact versions ``pyproject.toml`` pins, by lower-case package name.

    Read from the installed course package's metadata (written from pyproject.toml at install
    time), or from ``pyproject.toml`` itself when the package runs from a source folder: the
    versions are written in one place only.
    """
    try:
        requirements = metadata.requires("course") or []
    except metadata.PackageNotFoundError:
        requirements = []
    if not requirements:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        if pyproject.exists():
            requirements = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    pins: dict[str, str] = {}
    for line in requirements:
        if "extra ==" in line:
            continue  # the maintainers' extras are not part of a learner's setup
        name, sep, version = line.split(";")[0].partition("==")
        if sep:
            pins[name.strip().lower()] = version.strip()
    return pins


#: The versions the course is tested with, for the packages ``check_environment`` reports.
EXPECTED_VERSIONS: dict[str, str] = {k: v for k, v in pinned_versions().items() if k in CHECKED_PACKAGES}

#: Okabe & Ito's palette: distinguishable with the common colour-vision deficiencies.
PALETTE: list[str] = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
]


#: environment variables that set the thread count of OpenMP and of the BLAS libraries
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def setup(seed: int = 0, threads: int = 1) -> np.random.Generator:
    """Make a notebook repeatable and its plots readable.

    Seeds Python's, NumPy's and torch's random number generators, sets torch and the
    linear-algebra libraries under NumPy, SciPy and scikit-learn (OpenBLAS, OpenMP) to
    ``threads`` CPU threads, and sets matplotlib defaults (size, fonts, a
    colour-blind-safe palette). One thread is fastest for the course's small problems:
    on two shared cores a small network ran 5 to 20 times slower with two threads, and
    03a's n-gram logistic regression took 3.3 s to fit instead of 0.07 s.

    Returns a seeded NumPy ``Generator`` for the notebook to use.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    for var in _THREAD_VARIABLES:  # read when a library loads: covers SciPy's OpenBLAS, loaded later
        os.environ[var] = str(threads)
    threadpool_limits(threads)  # the libraries loaded already, such as NumPy's OpenBLAS
    _plot_defaults()
    return np.random.default_rng(seed)


def _plot_defaults() -> None:
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "font.size": 11,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "axes.prop_cycle": cycler(color=PALETTE),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "image.cmap": "gray_r",
            "legend.frameon": False,
        }
    )


def installed_version(package: str) -> str | None:
    """The installed version of ``package``, or None when it is missing."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def check_environment(verbose: bool = True) -> list[str]:
    """Check Python, the packages and torch's threads; explain any problem in plain words.

    Returns the list of problems found (empty when all is well) and, when
    ``verbose``, prints a short report.
    """
    problems: list[str] = []
    lines = [f"Python {platform.python_version()} on {platform.system()}"]
    if sys.version_info[:2] not in SUPPORTED_PYTHONS:
        supported = ", ".join(f"{major}.{minor}" for major, minor in SUPPORTED_PYTHONS)
        problems.append(
            f"This course is tested with Python {supported}; you are running {platform.python_version()}. "
            "Some packages may not install, and numbers may differ from the ones in the text."
        )
    for package, wanted in EXPECTED_VERSIONS.items():
        found = installed_version(package)
        lines.append(f"{package:<13} {found or 'missing'}")
        if found is None:
            problems.append(
                f"{package} is not installed. From the course folder, run `make lab` "
                "(it installs everything into .venv) and open the notebook from there."
            )
        elif found.split("+")[0] != wanted:
            problems.append(
                f"{package} {found} is installed but the course is tested with {wanted}: "
                "results may differ slightly. `make lab` sets up the tested versions."
            )
    try:
        import torch

        lines.append(f"torch threads {torch.get_num_threads()} (CPU cores: {os.cpu_count()})")
        if torch.get_num_threads() != 1:
            problems.append(
                f"torch uses {torch.get_num_threads()} threads. Call `course.setup()` first: "
                "the course's tiny models train fastest on one thread."
            )
    except ImportError:
        pass
    if verbose:
        print("\n".join(lines))
        if problems:
            print("\nSomething needs your attention:")
            for p in problems:
                print(" -", p)
        else:
            print("\nAll good: your setup matches the one the course is tested with.")
    return problems
