"""Two backends' runs of the same model, side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gradfit.engine.history import History
from gradfit.engine.types import Array
from gradfit.plotting._canvas import FITTED, PathLike, finish, log_y, new_figure
from gradfit.plotting.history import loss_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def max_parameter_difference(a: History, b: History) -> Array:
    """``max |θ_a - θ_b|`` over every parameter, per recorded snapshot: ``(epochs + 1,)``."""
    if not a.parameters or not b.parameters:
        raise ValueError("both histories need parameters; train with record_parameters=True")
    if len(a.parameters) != len(b.parameters):
        raise ValueError(
            f"the runs recorded {len(a.parameters)} and {len(b.parameters)} snapshots; "
            "compare runs of the same length"
        )
    return np.array(
        [
            max(float(np.max(np.abs(p - q))) for p, q in zip(pa, pb, strict=True))
            for pa, pb in zip(a.parameters, b.parameters, strict=True)
        ]
    )


def plot_parity(
    a: History,
    b: History,
    *,
    labels: tuple[str, str] = ("NumPy engine", "PyTorch"),
    title: str = "NumPy engine versus PyTorch",
    path: PathLike | None = None,
) -> Figure:
    """Both runs' losses overlaid, and the largest parameter difference after each epoch.

    Parameters
    ----------
    a, b : History
        Runs of the same model from the same initial parameters, with parameters recorded.
    labels : (str, str)
        The names of the two runs.
    path : str or path, optional
        Where to save the figure as PNG.
    """
    diff = max_parameter_difference(a, b)
    fig, axes = new_figure(1, 2, size=(11, 4.2))
    ax_loss, ax_diff = axes[0]
    ax_loss.plot(
        np.arange(1, a.epochs + 1), a.loss, color=FITTED[0], linewidth=2.6, label=labels[0]
    )
    ax_loss.plot(
        np.arange(1, b.epochs + 1), b.loss, "--", color="black", linewidth=1.2, label=labels[1]
    )
    log_y(ax_loss)
    ax_loss.legend()
    ax_loss.set(
        title="Loss per epoch", xlabel="epoch", ylabel=f"{loss_label(a.loss_name)} (log scale)"
    )

    # Epoch 0 is the shared starting point, where the difference is exactly zero.
    epochs = np.arange(1, diff.size)
    ax_diff.plot(
        epochs, np.where(diff[1:] > 0, diff[1:], np.nan), ".-", color=FITTED[0], markersize=3
    )
    log_y(ax_diff)
    ax_diff.set_xlim(0, epochs.size + 1)
    identical = int(np.sum(diff[1:] == 0))
    if identical == epochs.size:
        ax_diff.set_ylim(1e-18, 1e-14)
    if identical:
        # A log axis cannot show zero: say how many epochs agreed to the last bit.
        ax_diff.text(
            0.02,
            0.96,
            f"identical to the bit after {identical} of {epochs.size} epochs (not drawn)",
            transform=ax_diff.transAxes,
            va="top",
            fontsize="small",
        )
    ax_diff.set(
        title="Largest parameter difference",
        xlabel="epoch",
        ylabel="max over parameters of |difference| (log scale)",
    )
    fig.suptitle(title)
    return finish(fig, path)
