"""Figures without pyplot: each figure gets its own Agg canvas and is saved atomically.

Building :class:`matplotlib.figure.Figure` directly (rather than through
``pyplot``) renders with Agg whatever backend the user has chosen, keeps no
global list of open figures, and never opens a window.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DataError, require
from gradfit.io.atomic import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PathLike = str | os.PathLike[str]

# One colour per role, the same in every figure.
OBSERVED = "#404040"
OTHER = "#b0b0b0"
TRUTH = "tab:blue"
FITTED = ("tab:red", "tab:orange", "tab:green", "tab:purple")
TRAIN = "tab:red"
VALIDATION = "tab:blue"

DPI = 100


def new_figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] = (6.4, 4.6)) -> Any:
    """A figure with an Agg canvas and a ``(nrows, ncols)`` array of axes.

    Returns
    -------
    (Figure, (nrows, ncols) array of Axes)
    """
    require("matplotlib", "plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat:
        ax.grid(True, color="#e6e6e6", linewidth=0.8)
        ax.set_axisbelow(True)
    return fig, axes


def log_y(ax: Any) -> None:
    """A logarithmic y axis whose ticks read as plain numbers (``0.5``, ``2e-16``)."""
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        # LogFormatter picks which ticks to label; only its number format (6e-01) changes.
        def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
            return f"{x:g}"

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(Plain())
    # Label a few minor ticks only where the axis spans little more than two decades.
    ax.yaxis.set_minor_formatter(Plain(labelOnlyBase=False, minor_thresholds=(2.5, 1)))


def save(fig: Figure, path: PathLike) -> Path:
    """Write ``fig`` as PNG to ``path`` atomically (a reader never sees half a file)."""
    target = Path(path)
    with atomic_write(target, "wb") as f, warnings.catch_warnings():
        # A label in a script the font lacks (a class named 猫) is drawn as a box;
        # matplotlib's warning about it would print a source line among gradfit's own.
        warnings.filterwarnings(
            "ignore", message="Glyph .* missing from font", category=UserWarning
        )
        _savefig(fig, f)
    return target


def png_bytes(fig: Figure) -> bytes:
    """``fig`` rendered as PNG, in memory (for embedding)."""
    import io

    buffer = io.BytesIO()
    _savefig(fig, buffer)
    return buffer.getvalue()


def _savefig(fig: Figure, file: Any) -> None:
    """Render ``fig`` as PNG with every text literal: the names it shows are the user's
    (classes, columns), and matplotlib would read ``a$b$c`` as ``a``, math ``b``, ``c``."""
    from matplotlib import rc_context
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_parse_math(False)
    with rc_context({"text.parse_math": False}):  # the tick labels, made while drawing
        fig.savefig(file, format="png", dpi=DPI)


def finish(fig: Figure, path: PathLike | None) -> Figure:
    """Save ``fig`` when ``path`` is given; return it either way."""
    if path is not None:
        save(fig, path)
    return fig


def as_1d(a: Any, name: str, n: int | None = None) -> Array:
    """``a`` as a 1-D float array (a ``(n, 1)`` column is flattened), of length ``n`` if given."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"{name} must be 1-D or a single column, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise DataError(f"{name} has {arr.shape[0]} values but x has {n}")
    return arr
