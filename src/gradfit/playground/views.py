"""What the page draws of a network at one moment, computed from its parameters.

A :class:`Views` is built once per run (the grids do not change) and turns the
parameters ``[W1, b1, …]`` of the network in training into a JSON-ready dict: the
fitted curve or surface, scores on the training and test rows, each hidden unit's
output over the inputs (the thumbnails), and the weights the links are drawn with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit.datasets import Standardizer
from gradfit.engine.network import MLP
from gradfit.engine.types import Array
from gradfit.playground.data import Problem

DRAWN_UNITS = 16
"""Hidden units drawn per layer (with thumbnails and links); wider layers show a count."""
THUMB_CURVE = 32
THUMB_SURFACE = 12


def rounded(a: Array, digits: int = 4) -> list[Any]:
    """``a`` as nested lists with about ``digits`` significant digits (short JSON)."""
    a = np.asarray(a, dtype=np.float64)
    top = float(np.max(np.abs(a))) if a.size else 0.0
    decimals = digits - 1 - math.floor(math.log10(top)) if top > 0 and math.isfinite(top) else 0
    out: list[Any] = np.round(a, max(0, decimals)).tolist()
    return out


def scores(y: Array, predicted: Array) -> dict[str, float | None]:
    """RMSE and R² of ``predicted`` against ``y`` (R² is ``None`` for a constant ``y``)."""
    residual = float(np.sum((y - predicted) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    return {
        "rmse": math.sqrt(residual / len(y)),
        "r2": 1.0 - residual / total if total > 0 else None,
    }


class Views:
    """The page's views of a network ``sizes`` with ``activation`` on ``problem``."""

    def __init__(self, problem: Problem, sizes: Sequence[int], activation: str) -> None:
        self.problem, self.sizes, self.activation = problem, list(sizes), activation
        if problem.n_in == 1:
            lo, hi = problem.bounds[0]
            self.thumb_grid = np.linspace(lo, hi, THUMB_CURVE)[:, None]
        else:
            (lo1, hi1), (lo2, hi2) = problem.bounds
            x1, x2 = np.meshgrid(
                np.linspace(lo1, hi1, THUMB_SURFACE), np.linspace(lo2, hi2, THUMB_SURFACE)
            )
            self.thumb_grid = np.column_stack([x1.ravel(), x2.ravel()])

    def snapshot(
        self, params: Sequence[Array], x_scaler: Standardizer | None, y_scaler: Standardizer | None
    ) -> dict[str, Any]:
        """The views at parameters ``params`` (of the network on standardised data)."""
        net = MLP.from_parameters(self.sizes, self.activation, params)
        p = self.problem

        def predict(X: Array) -> Array:
            Z = x_scaler.transform(X) if x_scaler is not None else X
            out = net.forward(Z.astype(net.dtype))
            out = y_scaler.inverse_transform(out) if y_scaler is not None else out
            return np.asarray(out, dtype=np.float64)[:, 0]

        with np.errstate(all="ignore"):
            fit = predict(p.grid)
            units = self._hidden_outputs(net, x_scaler)
            train, test = predict(p.X_train), predict(p.X_test)
        weights = [rounded(W[:DRAWN_UNITS, :DRAWN_UNITS]) for W in (d.W for d in net.dense)]
        view: dict[str, Any] = {
            "fit": rounded(fit),
            "units": units,
            "weights": weights,
            "scores": {"train": scores(p.y_train, train), "test": scores(p.y_test, test)},
        }
        if self.sizes == [1, 1]:
            view["point"] = [float(net.dense[0].W[0, 0]), float(net.dense[0].b[0])]
        return view

    def _hidden_outputs(self, net: MLP, x_scaler: Standardizer | None) -> list[list[Any]]:
        """Each drawn hidden unit's output over the thumbnail grid, layer by layer."""
        A = self.thumb_grid
        A = (x_scaler.transform(A) if x_scaler is not None else A).astype(net.dtype)
        layers = []
        for dense, f in zip(net.dense[:-1], net.activations[:-1], strict=True):
            A = f.forward(dense.forward(A))
            layers.append([rounded(A[:, j], 3) for j in range(min(DRAWN_UNITS, A.shape[1]))])
        return layers


def loss_surface(
    X: Array, y: Array, loss: str, center: tuple[float, float], half_width: float, n: int = 121
) -> dict[str, Any]:
    """The loss of the line ``ŷ = w x + b`` on standardised ``X: (m, 1)``, ``y: (m,)``
    over a ``n × n`` grid of ``(w, b)`` around ``center`` (rows: ``b``; columns: ``w``)."""
    w = np.linspace(center[0] - half_width, center[0] + half_width, n)
    b = np.linspace(center[1] - half_width, center[1] + half_width, n)
    x = X[:, 0]
    # Σ(w x + b - y)² expanded in the sums of the data, for every (w, b) at once.
    W, B = np.meshgrid(w, b)
    m = len(x)
    sse = (
        W**2 * np.sum(x * x)
        + 2 * W * B * np.sum(x)
        + m * B**2
        - 2 * W * np.sum(x * y)
        - 2 * B * np.sum(y)
        + np.sum(y * y)
    )
    values = sse / m if loss == "mse" else sse
    return {"w": rounded(w), "b": rounded(b), "loss": rounded(values)}
