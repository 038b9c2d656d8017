"""Plotting helpers: image grids, loss curves and 2-D scatter plots, titled and labelled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course.runtime import PALETTE


def _numpy(x: torch.Tensor | np.ndarray) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def image_grid(images: torch.Tensor | np.ndarray, ncols: int = 10, shape: tuple[int, int] = (8, 8),
               titles: Sequence[str] | None = None, title: str | None = None,
               cell: float = 0.8) -> Figure:
    """Show images (``n x h*w`` rows or ``n x h x w``) in a grid, values in [0, 1], ink dark."""
    imgs = _numpy(images).reshape(-1, *shape)
    n = len(imgs)
    if n == 0:
        raise ValueError("image_grid() got no images")
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell * ncols, cell * nrows + (0.5 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(imgs[i], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def loss_curves(curves: Mapping[str, Sequence[float]], title: str = "Training loss",
                xlabel: str = "epoch", ylabel: str = "loss", ax: Axes | None = None,
                logy: bool = False) -> Axes:
    """Plot one or more named loss curves against their step number."""
    if ax is None:
        _, ax = plt.subplots()
    for i, (name, values) in enumerate(curves.items()):
        ax.plot(np.arange(1, len(values) + 1), list(values), label=name, color=PALETTE[i % len(PALETTE)])
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if len(curves) > 1:
        ax.legend()
    return ax


def scatter_2d(points: torch.Tensor | np.ndarray, labels: Sequence[int] | np.ndarray | None = None,
               title: str = "", xlabel: str = "$x_1$", ylabel: str = "$x_2$", ax: Axes | None = None,
               label_name: str = "label", **kwargs) -> Axes:
    """Scatter 2-D points, coloured by integer ``labels`` (up to 10 classes) when given."""
    pts = _numpy(points)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"scatter_2d() needs an n x 2 array, got shape {pts.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    style = {"s": 8, "alpha": 0.7} | kwargs
    if labels is None:
        ax.scatter(pts[:, 0], pts[:, 1], **style)
    else:
        lab = _numpy(labels).astype(int)
        colours = PALETTE + ["#999999", "#882255"]
        for k in np.unique(lab):
            m = lab == k
            ax.scatter(pts[m, 0], pts[m, 1], color=colours[k % len(colours)], label=str(k), **style)
        ax.legend(title=label_name, markerscale=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.set_aspect("equal", adjustable="box")  # "datalim" warns on stderr when limits are set later
    return ax
