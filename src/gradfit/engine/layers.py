"""The dense (fully connected) layer, with its own chain rule."""

from __future__ import annotations

import numpy as np

from gradfit.engine.types import Array


class Dense:
    """``Z = X @ W.T + b``, stored as PyTorch's ``nn.Linear`` stores it.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    rng : numpy.random.Generator
        Source of the initial weights: ``W, b ~ U(-1/√n_in, 1/√n_in)``, as PyTorch.
    dtype : numpy dtype
        ``float32`` or ``float64``.

    Attributes
    ----------
    W : (n_out, n_in) array
    b : (n_out,) array
    dW, db : arrays of the same shapes
        ``dL/dW`` and ``dL/db`` after the last :meth:`backward`.
    """

    def __init__(
        self, n_in: int, n_out: int, *, rng: np.random.Generator, dtype: type = np.float64
    ) -> None:
        bound = 1 / np.sqrt(n_in)
        self.W: Array = rng.uniform(-bound, bound, size=(n_out, n_in)).astype(dtype)
        self.b: Array = rng.uniform(-bound, bound, size=n_out).astype(dtype)
        self.dW: Array = np.zeros_like(self.W)
        self.db: Array = np.zeros_like(self.b)

    def forward(self, X: Array) -> Array:
        """``X: (n_samples, n_in)`` → ``Z: (n_samples, n_out)``; keeps ``X`` for backward."""
        self._X = X
        Z: Array = X @ self.W.T
        Z += self.b
        return Z

    def backward(self, G: Array) -> Array:
        """Given ``G = dL/dZ: (n_samples, n_out)``, store ``dW = Gᵀ X``, ``db = Σ_rows G``.

        Returns ``dL/dX = G @ W``, ``(n_samples, n_in)``.
        """
        self.parameter_gradients(G)
        return G @ self.W

    def parameter_gradients(self, G: Array) -> None:
        """:meth:`backward` without ``dL/dX``: for a first layer, whose input is data."""
        np.matmul(G.T, self._X, out=self.dW)
        np.sum(G, axis=0, out=self.db)

    def __repr__(self) -> str:
        n_out, n_in = self.W.shape
        return f"Dense({n_in}, {n_out}, dtype={self.W.dtype})"
