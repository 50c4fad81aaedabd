"""The dense (fully connected) layer, with its own chain rule."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from gradfit.engine.types import Array


def matmul(A: Array, B: Array, out: Array | None = None) -> Array:
    """``A @ B`` (or a stack of such products); with one shared index, as the broadcast
    product ``A * B``.

    That outer product is the same number either way (one product per entry, no sum),
    and broadcasting computes it several times faster than a BLAS call does.
    """
    if A.shape[-1] == 1 and B.shape[-2] == 1:
        return np.multiply(A, B, out=out)
    return np.matmul(A, B, out=out)


@lru_cache(maxsize=16)
def ones(n: int, dtype: np.dtype[Any]) -> Array:
    """A read-only vector of ``n`` ones: ``1ᵀ G`` sums ``G``'s rows with one BLAS call,
    three times faster than ``G.sum(axis=0)``."""
    o = np.ones(n, dtype)
    o.flags.writeable = False
    return o


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

    def forward(self, X: Array, out: Array | None = None) -> Array:
        """``X: (n_samples, n_in)`` → ``Z: (n_samples, n_out)``; keeps ``X`` for backward.

        ``out``, if given, is a ``(n_samples, n_out)`` array to write ``Z`` into.
        """
        self._X = X
        Z = matmul(X, self.W.T, out)
        Z += self.b
        return Z

    def backward(self, G: Array, out: Array | None = None) -> Array:
        """Given ``G = dL/dZ: (n_samples, n_out)``, store ``dW = Gᵀ X``, ``db = Gᵀ 1``.

        Returns ``dL/dX = G @ W``, ``(n_samples, n_in)``, written into ``out`` if given.
        """
        self.parameter_gradients(G)
        return matmul(G, self.W, out)

    def parameter_gradients(self, G: Array) -> None:
        """:meth:`backward` without ``dL/dX``: for a first layer, whose input is data."""
        np.matmul(G.T, self._X, out=self.dW)
        np.matmul(ones(G.shape[0], G.dtype), G, out=self.db)

    def __getstate__(self) -> dict[str, Any]:
        # The input kept for backward is the last batch's, not the layer's.
        return {k: v for k, v in self.__dict__.items() if k != "_X"}

    def __repr__(self) -> str:
        n_out, n_in = self.W.shape
        return f"Dense({n_in}, {n_out}, dtype={self.W.dtype})"


class StackedDense(Dense):
    """``K`` dense layers side by side: ``Z[k] = X[k] @ W[k].T + b[k]`` for each member ``k``.

    The layer of an :class:`~gradfit.engine.ensemble.Ensemble`: one ``matmul`` over a
    stack of matrices computes every member's layer, with the same numbers as ``K``
    :class:`Dense` layers.

    Attributes
    ----------
    W : (K, n_out, n_in) array
    b : (K, n_out) array
    dW, db : arrays of the same shapes
        ``dL/dW`` and ``dL/db`` after the last :meth:`backward`.
    """

    def __init__(self, layers: list[Dense]) -> None:
        self.W = np.stack([d.W for d in layers])
        self.b = np.stack([d.b for d in layers])
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def forward(self, X: Array, out: Array | None = None) -> Array:
        """``X: (n_samples, n_in)``, shared by the members, or ``(K, n_samples, n_in)`` →
        ``Z: (K, n_samples, n_out)``; keeps ``X`` for backward."""
        self._X = X
        Z = matmul(X, self.W.transpose(0, 2, 1), out)
        Z += self.b[:, None, :]
        return Z

    def backward(self, G: Array, out: Array | None = None) -> Array:
        """Given ``G = dL/dZ: (K, n_samples, n_out)``, store ``dW[k] = G[k]ᵀ X[k]`` and
        ``db[k] = G[k]ᵀ 1``; return ``dL/dX = G @ W``, ``(K, n_samples, n_in)``."""
        self.parameter_gradients(G)
        return matmul(G, self.W, out)

    def parameter_gradients(self, G: Array) -> None:
        """:meth:`backward` without ``dL/dX``: for a first layer, whose input is data."""
        np.matmul(G.transpose(0, 2, 1), self._X, out=self.dW)
        np.add.reduce(G, axis=1, out=self.db)

    def __repr__(self) -> str:
        K, n_out, n_in = self.W.shape
        return f"StackedDense({K} × ({n_in}, {n_out}), dtype={self.W.dtype})"
