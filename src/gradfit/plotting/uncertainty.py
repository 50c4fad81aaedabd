"""Figures of predictive uncertainty: an interval band over the data, and calibration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit.plotting._canvas import (
    FITTED,
    OBSERVED,
    TRUTH,
    PathLike,
    as_1d,
    finish,
    new_figure,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_band(
    x: Any,
    mean: Any,
    lower: Any,
    upper: Any,
    *,
    truth: Any = None,
    observed: tuple[Any, Any] | None = None,
    coverage: float = 0.9,
    title: str = "Prediction and its interval",
    xlabel: str = "x",
    ylabel: str = "y",
    path: PathLike | None = None,
) -> Figure:
    """The predicted mean with its ``coverage`` interval shaded, over the truth and points.

    Parameters
    ----------
    x : (n,) array
        Sorted inputs at which the prediction is given.
    mean, lower, upper : (n,) arrays
        The predictive mean and the interval's bounds at ``x``.
    truth : (n,) array, optional
        The noise-free function at ``x``.
    observed : ((m,) array, (m,) array), optional
        The training points ``(x_obs, y_obs)``.
    coverage : float
        What the interval covers, for the legend.
    path : str or path, optional
        Where to save the figure as PNG.
    """
    x = as_1d(x, "x")
    fig, axes = new_figure()
    ax = axes[0, 0]
    color = FITTED[0]
    ax.fill_between(
        x, as_1d(lower, "lower", x.size), as_1d(upper, "upper", x.size), color=color,
        alpha=0.2, linewidth=0, label=f"{coverage:.0%} interval",
    )  # fmt: skip
    if truth is not None:
        ax.plot(x, as_1d(truth, "truth", x.size), color=TRUTH, linewidth=1.8, label="truth")
    ax.plot(x, as_1d(mean, "mean", x.size), color=color, linewidth=1.8, label="predicted mean")
    if observed is not None:
        x_obs = as_1d(observed[0], "observed x")
        y_obs = as_1d(observed[1], "observed y", x_obs.size)
        ax.scatter(x_obs, y_obs, s=14, color=OBSERVED, zorder=3, label=f"observed ({x_obs.size})")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(loc="best", fontsize="small")
    return finish(fig, path)


def plot_calibration(
    curves: dict[str, tuple[Any, Any]],
    *,
    title: str = "Calibration of the predictive intervals",
    path: PathLike | None = None,
) -> Figure:
    """Observed against expected coverage of central intervals, one line per model.

    Parameters
    ----------
    curves : mapping of label to ``(expected, observed)``
        As :func:`gradfit.uncertainty.calibration_curve` returns them.
    path : str or path, optional
        Where to save the figure as PNG.
    """
    fig, axes = new_figure(size=(5.2, 5.0))
    ax = axes[0, 0]
    ax.plot([0, 1], [0, 1], color=OBSERVED, linestyle=":", linewidth=1.2, label="calibrated")
    for i, (label, (expected, observed)) in enumerate(curves.items()):
        e, o = np.asarray(expected), np.asarray(observed)
        ax.plot(e, o, color=FITTED[i % len(FITTED)], linewidth=1.8, label=label)
    ax.set(title=title, xlabel="expected coverage", ylabel="observed coverage",
           xlim=(0, 1), ylim=(0, 1), aspect="equal")  # fmt: skip
    ax.legend(loc="upper left", fontsize="small")
    return finish(fig, path)
