"""Data and fitted functions: scatter plots and curves over ``x``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit.plotting._canvas import (
    FITTED,
    OBSERVED,
    OTHER,
    TRUTH,
    PathLike,
    as_1d,
    finish,
    new_figure,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_data(
    x: Any,
    y: Any,
    *,
    train: Any = None,
    title: str = "Data",
    xlabel: str = "x",
    ylabel: str = "y",
    path: PathLike | None = None,
) -> Figure:
    """Scatter ``y`` against ``x``; the training sample stands out when ``train`` is given.

    Parameters
    ----------
    x, y : (n,) arrays
    train : (n_train,) int array, optional
        Rows of the training sample (e.g. ``Dataset.train``).
    path : str or path, optional
        Where to save the figure as PNG.
    """
    x = as_1d(x, "x")
    y = as_1d(y, "y", x.size)
    fig, axes = new_figure()
    ax = axes[0, 0]
    if train is None:
        ax.scatter(x, y, s=14, color=OBSERVED)
    else:
        in_train = np.zeros(x.size, dtype=bool)
        in_train[np.asarray(train)] = True
        ax.scatter(
            x[~in_train],
            y[~in_train],
            s=14,
            color=OTHER,
            label=f"not sampled ({(~in_train).sum()})",
        )
        ax.scatter(
            x[in_train],
            y[in_train],
            s=14,
            color=OBSERVED,
            label=f"training sample ({in_train.sum()})",
        )
        ax.legend()
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return finish(fig, path)


def plot_fit(
    x: Any,
    fitted: Any = None,
    *,
    truth: Any = None,
    observed: tuple[Any, Any] | None = None,
    title: str = "Fitted function",
    xlabel: str = "x",
    ylabel: str = "y",
    path: PathLike | None = None,
) -> Figure:
    """The fitted function against the truth and the observed points.

    Parameters
    ----------
    x : (n,) array
        Sorted inputs at which ``fitted`` and ``truth`` are given.
    fitted : (n,) or (n, 1) array, or mapping of label to such arrays, optional
        The model's predictions at ``x``; a mapping draws several fits (e.g. two backends).
    truth : (n,) array, optional
        The noise-free function at ``x``.
    observed : ((m,) array, (m,) array), optional
        The training points ``(x_obs, y_obs)``.
    path : str or path, optional
        Where to save the figure as PNG.
    """
    x = as_1d(x, "x")
    fits: Mapping[str, Any]
    if fitted is None:
        fits = {}
    elif isinstance(fitted, Mapping):
        fits = fitted
    else:
        fits = {"fitted": fitted}
    fig, axes = new_figure()
    ax = axes[0, 0]
    if truth is not None:
        ax.plot(x, as_1d(truth, "truth", x.size), color=TRUTH, linewidth=1.8, label="truth")
    for i, (label, values) in enumerate(fits.items()):
        color = FITTED[i % len(FITTED)]
        style = "-" if i == 0 else "--"
        ax.plot(x, as_1d(values, label, x.size), style, color=color, linewidth=1.8, label=label)
    if observed is not None:
        x_obs = as_1d(observed[0], "observed x")
        y_obs = as_1d(observed[1], "observed y", x_obs.size)
        ax.scatter(x_obs, y_obs, s=18, color=OBSERVED, zorder=3, label=f"observed ({x_obs.size})")
    if len(ax.get_legend_handles_labels()[1]) > 1:
        ax.legend()
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return finish(fig, path)
