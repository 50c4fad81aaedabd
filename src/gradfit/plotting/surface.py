"""Gradient descent drawn over the contours of the loss of a two-parameter model.

The model is the walk-through's straight line ``ŷ = w₀ + w₁ x``. Each step of
gradient descent moves against the gradient, which is perpendicular to the
contour through the current point; the figure makes that visible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit.engine.history import History
from gradfit.engine.types import Array
from gradfit.plotting._canvas import OBSERVED, TRAIN, PathLike, as_1d, finish, new_figure
from gradfit.plotting.history import loss_label
from gradfit.walkthrough import Trajectory

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GRID = 161


def intercept_slope_path(record: History | Trajectory | Any) -> Array:
    """The ``(k, 2)`` path of ``[intercept, slope]`` from a record of a straight-line model.

    A Trajectory's weights are ``[w₀, w₁]`` already; a History must hold the
    parameters of one linear layer ``[W: (1, 1), b: (1,)]``; an array must be ``(k, 2)``.
    """
    if isinstance(record, Trajectory):
        return np.asarray(record.weights, dtype=np.float64)
    if isinstance(record, History):
        if not record.parameters:
            raise ValueError("the history holds no parameters; train with record_parameters=True")
        shapes = [p.shape for p in record.parameters[0]]
        if shapes != [(1, 1), (1,)]:
            raise ValueError(
                f"a loss surface needs a model with two parameters, W (1, 1) and b (1,); "
                f"got parameter shapes {shapes}"
            )
        return np.array([[b[0], W[0, 0]] for W, b in record.parameters], dtype=np.float64)
    path = np.asarray(record, dtype=np.float64)
    if path.ndim != 2 or path.shape[1] != 2:
        raise ValueError(f"the path must have shape (k, 2), got {path.shape}")
    return path


def line_loss(w0: Array, w1: Array, x: Array, y: Array, loss: str = "sse") -> Array:
    """The loss of ``ŷ = w₀ + w₁ x`` at every grid point: ``w0, w1`` of one shape ``S`` → ``S``."""
    R = w0[..., None] + w1[..., None] * x - y
    L: Array = np.einsum("...i,...i->...", R, R)
    return L / x.size if loss == "mse" else L


def plot_descent(
    record: History | Trajectory | Any,
    x: Any,
    y: Any,
    *,
    loss: str = "sse",
    title: str = "Gradient descent on the loss surface",
    path: PathLike | None = None,
) -> Figure:
    """The path of ``[intercept, slope]`` over the contours of the loss on ``(x, y)``.

    Parameters
    ----------
    record : History, Trajectory or (k, 2) array
        The parameters after every epoch (see :func:`intercept_slope_path`).
    x, y : (n,) arrays
        The training data the path was computed on.
    loss : {"sse", "mse"}
        Which loss the contours show (its minimum is the same point).
    path : str or path, optional
        Where to save the figure as PNG.
    """
    steps = intercept_slope_path(record)
    x = as_1d(x, "x")
    y = as_1d(y, "y", x.size)
    X = np.column_stack([np.ones_like(x), x])
    best = np.linalg.lstsq(X, y, rcond=None)[0]

    # A square window around the path and the minimum, so the contours keep their true shape.
    points = np.vstack([steps, best])
    centre = (points.max(axis=0) + points.min(axis=0)) / 2
    half = 0.6 * max(np.ptp(points, axis=0).max(), 1e-3)
    w0, w1 = np.meshgrid(
        np.linspace(centre[0] - half, centre[0] + half, GRID),
        np.linspace(centre[1] - half, centre[1] + half, GRID),
    )
    L = line_loss(w0, w1, x, y, loss)
    L_min = float(line_loss(best[0], best[1], x, y, loss))
    # The surface is a quadratic bowl: levels spaced as squares look evenly spaced.
    levels = L_min + (L.max() - L_min) * np.linspace(0, 1, 16)[1:] ** 2

    fig, axes = new_figure(size=(6.4, 5.6))
    ax = axes[0, 0]
    contours = ax.contour(w0, w1, L, levels=levels, cmap="viridis", linewidths=0.9)
    fig.colorbar(contours, ax=ax, label=loss_label(loss), shrink=0.85, format="%.4g")
    ax.plot(steps[:, 0], steps[:, 1], color=TRAIN, linewidth=1.4, label="gradient descent")
    every = max(1, (len(steps) - 1) // 25)
    ax.plot(steps[::every, 0], steps[::every, 1], "o", color=TRAIN, markersize=3)
    ax.plot(*steps[0], "o", color=OBSERVED, markersize=8, label=f"start ({_pair(steps[0])})")
    ax.plot(
        *steps[-1],
        "s",
        color=TRAIN,
        markersize=7,
        label=f"after {len(steps) - 1} epochs ({_pair(steps[-1])})",
    )
    ax.plot(*best, "*", color="black", markersize=13, label=f"least squares ({_pair(best)})")
    ax.set_aspect("equal")
    ax.legend(fontsize="small", loc="best")
    ax.set(title=title, xlabel="intercept w₀", ylabel="slope w₁")
    return finish(fig, path)


def _pair(w: Array) -> str:
    # Rounding first shows a least-squares intercept of 3e-17 as 0.
    a, b = np.round(w, 4) + 0.0
    return f"{a:.3g}, {b:.3g}"
