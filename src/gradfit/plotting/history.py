"""What training recorded: the loss per epoch and each parameter's path.

Both functions take an engine :class:`~gradfit.engine.History` (from any backend)
or the walk-through's :class:`~gradfit.walkthrough.Trajectory`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from gradfit.engine.history import LOSS_LABELS, History
from gradfit.engine.types import Array
from gradfit.plotting._canvas import (
    FITTED,
    TRAIN,
    VALIDATION,
    PathLike,
    finish,
    log_y,
    new_figure,
)
from gradfit.walkthrough import Trajectory

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Record = History | Trajectory

# Arrays with more elements than this get thin unlabelled lines instead of a legend.
MAX_LEGEND = 8


def as_history(record: Record) -> History:
    """``record`` as a :class:`History`; a Trajectory's ``[w₀, w₁]`` become two 1-element arrays."""
    if isinstance(record, History):
        return record
    return History(
        loss=[float(v) for v in record.losses],
        parameters=[[w[:1].copy(), w[1:].copy()] for w in record.weights],
        loss_name="sse",
    )


def parameter_names(record: Record) -> list[str]:
    """Names of the parameter arrays: ``W1, b1, W2, …``, or ``intercept w₀, slope w₁``."""
    if isinstance(record, Trajectory):
        return ["intercept w₀", "slope w₁"]
    n_arrays = len(record.parameters[0]) if record.parameters else 0
    return [f"{'Wb'[i % 2]}{i // 2 + 1}" for i in range(n_arrays)]


def loss_label(loss_name: str) -> str:
    """The axis label of a loss, e.g. ``"sum of squared errors"``."""
    return LOSS_LABELS.get(loss_name, loss_name)


def plot_loss(
    record: Record | Mapping[str, Record],
    *,
    log_scale: bool = False,
    title: str = "Loss per epoch",
    restored_epoch: int | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Training (and validation, when recorded) loss against the epoch.

    The loss drawn at epoch ``i`` is the one the training loop logged for it: with
    full batches, the loss at the parameters *before* update ``i``.

    Parameters
    ----------
    record : History or Trajectory, or mapping of label to them
        One run, or several runs to overlay (they should share a loss).
    log_scale : bool
        Draw the loss on a logarithmic axis.
    restored_epoch : int, optional
        The epoch whose parameters early stopping kept: marked by a vertical line and,
        for one run with a validation curve, a dot on it.
    path : str or path, optional
        Where to save the figure as PNG.
    """
    runs = dict(record) if isinstance(record, Mapping) else {"": record}
    histories = {label: as_history(r) for label, r in runs.items()}
    fig, axes = new_figure()
    ax = axes[0, 0]
    for i, (label, h) in enumerate(histories.items()):
        epochs = np.arange(1, h.epochs + 1)
        prefix = f"{label}: " if label else ""
        color = FITTED[i % len(FITTED)] if label else TRAIN
        ax.plot(epochs, h.loss, color=color, linewidth=1.6, label=f"{prefix}training")
        if h.val_loss:
            val_color = color if label else VALIDATION
            ax.plot(
                np.arange(1, len(h.val_loss) + 1),
                h.val_loss,
                "--",
                color=val_color,
                linewidth=1.6,
                label=f"{prefix}validation",
            )
    if restored_epoch is not None:
        label = f"restored epoch {restored_epoch}"
        ax.axvline(restored_epoch, color="0.45", linestyle=":", linewidth=1.2, label=label)
        if len(histories) == 1:
            (h,) = histories.values()
            if len(h.val_loss) >= restored_epoch:
                ax.plot(restored_epoch, h.val_loss[restored_epoch - 1], "o", color=VALIDATION)
    names = {h.loss_name for h in histories.values()}
    if log_scale:
        log_y(ax)
    if len(ax.get_legend_handles_labels()[1]) > 1:
        ax.legend()
    ylabel = " / ".join(sorted(loss_label(n) for n in names))
    ax.set(title=title, xlabel="epoch", ylabel=ylabel + (" (log scale)" if log_scale else ""))
    return finish(fig, path)


def plot_parameters(
    record: Record,
    *,
    names: Sequence[str] | None = None,
    title: str = "Parameters per epoch",
    path: PathLike | None = None,
) -> Figure:
    """Every parameter's value against the epoch, one panel per parameter array.

    Epoch 0 is the initial value; epoch ``i`` the value after ``i`` epochs.

    Parameters
    ----------
    record : History or Trajectory
        A History must have been recorded with ``record_parameters=True``.
    names : sequence of str, optional
        One name per parameter array; defaults to ``W1, b1, W2, …``.
    path : str or path, optional
        Where to save the figure as PNG.
    """
    h = as_history(record)
    if not h.parameters:
        raise ValueError("the history holds no parameters; train with record_parameters=True")
    names = list(names) if names is not None else parameter_names(record)
    paths: list[Array] = [
        np.stack([snapshot[k].ravel() for snapshot in h.parameters])
        for k in range(len(h.parameters[0]))
    ]
    if len(names) != len(paths):
        raise ValueError(f"expected {len(paths)} names, one per parameter array, got {len(names)}")
    ncols = min(len(paths), 2)
    nrows = -(-len(paths) // ncols)
    fig, axes = new_figure(nrows, ncols, size=(4.6 * ncols, 3.4 * nrows))
    epochs = np.arange(len(h.parameters))
    for ax, name, values in zip(axes.flat, names, paths, strict=False):
        n = values.shape[1]
        if n <= MAX_LEGEND:
            for j in range(n):
                label = name if n == 1 else f"{name}[{j}]"
                ax.plot(epochs, values[:, j], color=FITTED[j % len(FITTED)], label=label)
            if n > 1:
                ax.legend(fontsize="small")
            ax.set_title(name)
        else:
            ax.plot(epochs, values, color=TRAIN, linewidth=0.7, alpha=0.35)
            ax.set_title(f"{name} ({n} values, one line each)")
        ax.set(xlabel="epoch", ylabel="value")
    for ax in axes.flat[len(paths) :]:
        ax.set_visible(False)
    fig.suptitle(title)
    return finish(fig, path)
