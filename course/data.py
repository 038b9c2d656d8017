"""Data sets for the course: small, offline, with seeded splits.

Everything here either ships inside a pip package (scikit-learn's digits, the
census name lists of the ``names`` package) or is generated from a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources

import numpy as np
import torch


@dataclass(frozen=True)
class ImageSplit:
    """Images as float32 rows in [0, 1] (``n x 64`` for 8x8 digits) with int64 labels."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    image_shape: tuple[int, int] = (8, 8)


@dataclass(frozen=True)
class TextSplit:
    """Lists of strings for training, validation and test; no string is in two lists."""

    train: list[str]
    val: list[str]
    test: list[str]


def _check_fraction(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and 0.0 < value < 1.0):
        raise ValueError(f"{name} must be a fraction strictly between 0 and 1, got {value!r}")


def digits(test_fraction: float = 0.25, seed: int = 0) -> ImageSplit:
    """scikit-learn's 1,797 handwritten 8x8 digits, scaled to [0, 1], split with a seed.

    The split is stratified, so every digit has the same share in train and test.
    """
    _check_fraction("test_fraction", test_fraction)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    return ImageSplit(
        torch.from_numpy(x_tr), torch.from_numpy(y_tr), torch.from_numpy(x_te), torch.from_numpy(y_te)
    )


def ring_of_gaussians(
    n: int, modes: int = 8, radius: float = 2.0, std: float = 0.05, seed: int = 0
) -> torch.Tensor:
    """``n`` points from a mixture of ``modes`` Gaussians evenly spaced on a circle.

    Each point picks a mode uniformly at random. Returns an ``n x 2`` float32 tensor.
    """
    if n < 1 or modes < 1:
        raise ValueError(f"n and modes must be positive, got n={n}, modes={modes}")
    if std <= 0 or radius <= 0:
        raise ValueError(f"std and radius must be positive, got std={std}, radius={radius}")
    rng = np.random.default_rng(seed)
    which = rng.integers(0, modes, size=n)
    centres = ring_centres(modes, radius).numpy()
    points = centres[which] + rng.normal(0.0, std, size=(n, 2))
    return torch.from_numpy(points.astype(np.float32))


def ring_centres(modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The ``modes x 2`` centres of :func:`ring_of_gaussians`' components."""
    angles = [2 * math.pi * k / modes for k in range(modes)]
    return torch.tensor([[radius * math.cos(a), radius * math.sin(a)] for a in angles], dtype=torch.float32)


def _names_file(filename: str) -> list[str]:
    try:
        text = resources.files("names").joinpath(filename).read_text(encoding="ascii")
    except (ModuleNotFoundError, FileNotFoundError) as err:
        raise RuntimeError(
            "The name lists come from the pip package `names` (pinned in pyproject.toml). "
            "Run `make lab` or `pip install -e .` in the course folder to install it."
        ) from err
    return [line.split()[0].lower() for line in text.splitlines() if line.strip()]


def first_names(val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0) -> TextSplit:
    """About 5,000 distinct US census first names, lower-case, split with a seed.

    Read from the files that ship inside the ``names`` package: no network.
    """
    _check_fraction("val_fraction", val_fraction)
    _check_fraction("test_fraction", test_fraction)
    if val_fraction + test_fraction >= 1:
        raise ValueError("val_fraction + test_fraction must leave something to train on")
    unique = sorted(set(_names_file("dist.male.first")) | set(_names_file("dist.female.first")))
    order = np.random.default_rng(seed).permutation(len(unique))
    shuffled = [unique[i] for i in order]
    n_val = round(len(shuffled) * val_fraction)
    n_test = round(len(shuffled) * test_fraction)
    return TextSplit(
        train=shuffled[n_val + n_test :],
        val=shuffled[:n_val],
        test=shuffled[n_val : n_val + n_test],
    )
