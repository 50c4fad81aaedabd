"""Squared-error losses and their gradients.

Both take predictions ``Ŷ`` and targets ``Y`` of the same shape ``(n_samples, n_out)``
and refuse anything else: a ``(n,)`` target against ``(n, 1)`` predictions would
otherwise broadcast into an ``(n, n)`` matrix of wrong residuals.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DataError


def check_same_shape(
    Y_hat: Array, Y: Array, names: tuple[str, str] = ("predictions", "targets")
) -> None:
    """Raise :class:`~gradfit.errors.DataError` unless ``Y_hat`` and ``Y`` have one shape.

    ``names`` are what the message calls them; it says how to fix a flat ``y``
    against a column (or the reverse), the walk-through's trap.
    """
    if Y_hat.shape != Y.shape:
        if Y.ndim == 1 and Y_hat.shape == (*Y.shape, 1):
            hint = "; make y a column to match, y.reshape(-1, 1)"
        elif Y_hat.ndim == 1 and Y.shape == (*Y_hat.shape, 1):
            hint = "; make y flat to match, y.ravel()"
        else:
            hint = ""
        raise DataError(
            f"{names[0]} have shape {Y_hat.shape} but {names[1]} have shape {Y.shape}{hint}"
        )


class Loss:
    """A loss ``L(Ŷ, Y)`` with its gradient ``dL/dŶ``."""

    name: ClassVar[str] = ""

    def value(self, Y_hat: Array, Y: Array) -> float:
        raise NotImplementedError

    def gradient(self, Y_hat: Array, Y: Array) -> Array:
        raise NotImplementedError

    def value_and_gradient(
        self, Y_hat: Array, Y: Array, out: Array | None = None
    ) -> tuple[float, Array]:
        """``(value(Ŷ, Y), gradient(Ŷ, Y))``, sharing the residual where the loss can;
        the gradient is written into ``out`` (which may be ``Y_hat``) when given."""
        G = self.gradient(Y_hat, Y)
        value = self.value(Y_hat, Y)
        if out is None:
            return value, G
        np.copyto(out, G)
        return value, out

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SSE(Loss):
    """Sum of squared errors, ``L = Σ (Ŷ - Y)²``; ``dL/dŶ = 2 (Ŷ - Y)``.

    The walk-through's ``sum((y - pred)^2)``; PyTorch's ``MSELoss(reduction="sum")``.
    """

    name = "sse"

    def value(self, Y_hat: Array, Y: Array) -> float:
        check_same_shape(Y_hat, Y)
        R = Y_hat - Y
        return float(np.vdot(R, R))

    def gradient(self, Y_hat: Array, Y: Array) -> Array:
        check_same_shape(Y_hat, Y)
        G: Array = Y_hat - Y
        G *= 2
        return G

    def value_and_gradient(
        self, Y_hat: Array, Y: Array, out: Array | None = None
    ) -> tuple[float, Array]:
        check_same_shape(Y_hat, Y)
        G: Array = np.subtract(Y_hat, Y, out=out)
        value = float(np.vdot(G, G))
        G *= 2
        return value, G


class MSE(Loss):
    """Mean squared error over all ``N`` elements, ``L = Σ (Ŷ - Y)² / N``.

    ``dL/dŶ = 2 (Ŷ - Y) / N``; PyTorch's ``MSELoss()`` (``reduction="mean"``).
    """

    name = "mse"

    def value(self, Y_hat: Array, Y: Array) -> float:
        check_same_shape(Y_hat, Y)
        R = Y_hat - Y
        return float(np.vdot(R, R)) / R.size

    def gradient(self, Y_hat: Array, Y: Array) -> Array:
        check_same_shape(Y_hat, Y)
        G: Array = Y_hat - Y
        G *= 2 / G.size
        return G

    def value_and_gradient(
        self, Y_hat: Array, Y: Array, out: Array | None = None
    ) -> tuple[float, Array]:
        check_same_shape(Y_hat, Y)
        G: Array = np.subtract(Y_hat, Y, out=out)
        value = float(np.vdot(G, G)) / G.size
        G *= 2 / G.size
        return value, G


LOSSES: dict[str, type[Loss]] = {cls.name: cls for cls in (SSE, MSE)}


def get_loss(loss: str | Loss) -> Loss:
    """A loss by name (``"mse"`` or ``"sse"``), or the given :class:`Loss` itself."""
    if isinstance(loss, Loss):
        return loss
    try:
        return LOSSES[loss]()
    except KeyError:
        raise ValueError(f"unknown loss {loss!r}; choose 'mse' or 'sse'") from None
