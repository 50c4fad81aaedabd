"""How good a model's predictions are, in the target's own units: R², RMSE and MAE."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gradfit.engine.types import Array
from gradfit.io.statistics import ColumnStats


@dataclass(frozen=True)
class Scores:
    """One target's scores on ``rows`` rows.

    ``r2 = 1 - Σ(y - ŷ)² / Σ(y - ȳ)²`` (scikit-learn's ``r2_score``; ``nan`` when ``y``
    is constant), ``rmse = √mean((y - ŷ)²)`` and ``mae = mean|y - ŷ|``, both in ``y``'s
    units.
    """

    target: str
    rows: int
    r2: float
    rmse: float
    mae: float

    def as_dict(self) -> dict[str, float | int | None]:
        """``{"rows", "r2", "rmse", "mae"}``, for JSON (``nan`` becomes ``None``)."""
        values = {"r2": self.r2, "rmse": self.rmse, "mae": self.mae}
        scores: dict[str, float | int | None] = {"rows": self.rows}
        return scores | {k: None if np.isnan(v) else v for k, v in values.items()}


def score(Y: Array, Y_hat: Array, targets: Sequence[str]) -> list[Scores]:
    """Scores of predictions ``Y_hat`` of ``Y``, both ``(n_samples, n_targets)``."""
    scorer = Scorer()
    scorer.add(Y, Y_hat)
    return scorer.scores(targets)


class Scorer:
    """:class:`Scores` of predictions made chunk by chunk: :meth:`add` each chunk's
    ``(Y, Y_hat)``. ``Σ(y - ȳ)²`` is merged over the chunks by Chan's update (see
    :class:`~gradfit.io.statistics.ColumnStats`); with one chunk the numbers are
    those of the arrays computed whole."""

    def __init__(self) -> None:
        self._y: ColumnStats | None = None
        self._squares: Array | float = 0.0
        self._absolute: Array | float = 0.0

    def add(self, Y: Array, Y_hat: Array) -> None:
        if Y.shape[0] == 0:
            return
        residual = Y - Y_hat
        stats = ColumnStats.of(Y)
        self._y = stats if self._y is None else self._y.merge(stats)
        with np.errstate(over="ignore"):  # |y - ŷ| > 1e154: an RMSE of inf, said as such
            self._squares = self._squares + (residual**2).sum(axis=0)
        self._absolute = self._absolute + np.abs(residual).sum(axis=0)

    def scores(self, targets: Sequence[str]) -> list[Scores]:
        assert self._y is not None, "no rows were scored"
        n, total = self._y.n, self._y.m2
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(total > 0, 1 - self._squares / total, np.nan)
        rmse = np.sqrt(np.asarray(self._squares) / n)
        mae = np.asarray(self._absolute) / n
        return [
            Scores(str(t), n, float(r2[j]), float(rmse[j]), float(mae[j]))
            for j, t in enumerate(targets)
        ]


def table(rows: Sequence[tuple[str, Scores]]) -> str:
    """Aligned lines ``target  set  rows  R²  RMSE  MAE``, one per ``(set name, Scores)``."""
    cells = [("target", "data", "rows", "R²", "RMSE", "MAE")]
    cells += [
        (s.target, name, str(s.rows), f"{s.r2:.4f}", f"{s.rmse:.5g}", f"{s.mae:.5g}")
        for name, s in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(6)]
    # Names to the left, numbers to the right.
    lines = (
        "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    )
    return "\n".join(line.rstrip() for line in lines)
