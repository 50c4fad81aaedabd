"""Figures of a classifier: loss and accuracy per epoch, decision regions, confusion matrix."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit.engine.history import History
from gradfit.engine.types import Array
from gradfit.plotting._canvas import TRAIN, VALIDATION, PathLike, finish, new_figure
from gradfit.plotting.history import loss_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_training(
    history: History,
    accuracy: Sequence[float],
    val_accuracy: Sequence[float] = (),
    *,
    title: str = "Training",
    path: PathLike | None = None,
) -> Figure:
    """Loss (left) and accuracy (right) per epoch, training solid, validation dashed."""
    fig, axes = new_figure(1, 2, size=(10.0, 4.2))
    curves = (
        (axes[0, 0], history.loss, history.val_loss, loss_label(history.loss_name)),
        (axes[0, 1], accuracy, val_accuracy, "accuracy"),
    )
    for ax, train, val, label in curves:
        ax.plot(np.arange(1, len(train) + 1), train, color=TRAIN, lw=1.6, label="training")
        if len(val):
            ax.plot(
                np.arange(1, len(val) + 1), val, "--", color=VALIDATION, lw=1.6, label="validation"
            )
            ax.legend()
        ax.set(xlabel="epoch", ylabel=label, title=f"{label.capitalize()} per epoch")
    fig.suptitle(title)
    return finish(fig, path)


def plot_decision_regions(
    classify: Callable[[Array], Array],
    X: Array,
    y: Array,
    *,
    classes: Sequence[Any],
    xlabel: str = "x₁",
    ylabel: str = "x₂",
    title: str = "Decision regions",
    resolution: int = 300,
    path: PathLike | None = None,
) -> Figure:
    """The class ``classify`` gives each point of a grid over two inputs, with the data on top.

    Parameters
    ----------
    classify : callable
        ``(m, 2)`` points → ``(m,)`` labels from ``classes``.
    X : (n_samples, 2) array
    y : (n_samples,) array of labels
    classes : sequence of labels
        In the order their colours are given.
    """
    from matplotlib.colors import ListedColormap

    fig, axes = new_figure(size=(6.8, 5.4))
    ax = axes[0, 0]
    ax.grid(False)
    colours = [f"C{i % 10}" for i in range(len(classes))]
    pad = 0.05 * (X.max(axis=0) - X.min(axis=0))
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    g1, g2 = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    index = {c: i for i, c in enumerate(classes)}
    labels = classify(np.column_stack([g1.ravel(), g2.ravel()]))
    codes = np.array([index[c] for c in labels.tolist()]).reshape(g1.shape)
    cmap = ListedColormap(colours)
    ax.pcolormesh(
        g1, g2, codes, cmap=cmap, vmin=-0.5, vmax=len(classes) - 0.5, alpha=0.3, shading="auto"
    )
    for i, c in enumerate(classes):
        mine = np.asarray([v == c for v in y.tolist()])
        ax.scatter(
            X[mine, 0],
            X[mine, 1],
            s=18,
            color=colours[i],
            edgecolor="white",
            linewidth=0.5,
            label=str(c),
        )
    ax.legend(title="class", fontsize="small", loc="upper right")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    return finish(fig, path)


def plot_confusion_matrix(
    matrix: Array,
    classes: Sequence[Any],
    *,
    title: str = "",
    path: PathLike | None = None,
) -> Figure:
    """Counts of each true class (rows) predicted as each class (columns); ``title`` goes
    under the heading "Confusion matrix"."""
    n = len(classes)
    fig, axes = new_figure(size=(max(5.0, 0.6 * n + 3.0), max(4.4, 0.6 * n + 2.4)))
    ax = axes[0, 0]
    ax.grid(False)
    ax.imshow(matrix, cmap="Blues")
    top = matrix.max() if matrix.size else 0
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(
            j,
            i,
            str(count),
            ha="center",
            va="center",
            color="white" if count > top / 2 else "black",
        )
    names = [str(c) for c in classes]
    ax.set_xticks(range(n), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(n), names)
    ax.set(
        xlabel="predicted",
        ylabel="true",
        title="Confusion matrix" + (f"\n{title}" if title else ""),
    )
    return finish(fig, path)
