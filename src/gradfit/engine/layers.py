"""The dense (fully connected) layer, with its own chain rule."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from gradfit.engine.types import Array


def matmul(A: Array, B: Array, out: Array | None = None) -> Array:
    """``A @ B``, or a stack of such products.

    With a matrix ``B`` this is ``numpy.dot``'s product, which calls BLAS with less
    overhead than ``numpy.matmul`` (where ``out`` allows: C-contiguous, of the product's
    dtype), and computes an outer product (one shared index) three times faster than a
    broadcast ``A * B``. A stack of outer products is broadcast.
    """
    if B.ndim == 2:
        try:
            return np.dot(A, B, out)
        except ValueError:  # an out that numpy.dot does not write into
            pass
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


def end_to_end(W: Array, b: Array) -> Array | None:
    """``[W b]ᵀ: (2, n_out)`` as a view of both, where ``W: (n_out, 1)`` and ``b: (n_out,)``
    lie end to end in one 1-D buffer (as in an :class:`~gradfit.engine.MLP`'s flat
    buffers); otherwise ``None``."""
    base, (n_out, n_in) = W.base, W.shape
    if n_in != 1 or not isinstance(base, np.ndarray) or base.ndim != 1 or b.base is not base:
        return None
    if not (base.flags.c_contiguous and W.flags.c_contiguous and b.flags.c_contiguous):
        return None
    address = W.__array_interface__["data"][0]
    if b.__array_interface__["data"][0] != address + W.nbytes:
        return None
    start = (address - base.__array_interface__["data"][0]) // W.itemsize
    return base[start : start + 2 * n_out].reshape(2, n_out)


class Dense:
    """``Z = X @ W.T + b``, stored as PyTorch's ``nn.Linear`` stores it.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    rng : numpy.random.Generator or None
        Source of the initial weights: ``W, b ~ U(-1/√n_in, 1/√n_in)``, as PyTorch; ``None``
        for zeros, drawing nothing (for parameters set afterwards).
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
        self, n_in: int, n_out: int, *, rng: np.random.Generator | None, dtype: type = np.float64
    ) -> None:
        if rng is None:
            self.W: Array = np.zeros((n_out, n_in), dtype)
            self.b: Array = np.zeros(n_out, dtype)
        else:
            bound = 1 / np.sqrt(n_in)
            self.W = rng.uniform(-bound, bound, size=(n_out, n_in)).astype(dtype)
            self.b = rng.uniform(-bound, bound, size=n_out).astype(dtype)
        self.dW: Array = np.zeros_like(self.W)
        self.db: Array = np.zeros_like(self.b)

    def forward(self, X: Array, out: Array | None = None) -> Array:
        """``X: (n_samples, n_in)`` → ``Z: (n_samples, n_out)``; keeps ``X`` for backward.

        ``X`` may also be ``[X 1]: (n_samples, n_in + 1)``, the input with a column of
        ones (as a :class:`~gradfit.engine.workspace.Workspace` gives the data): then
        ``Z = [X 1] [W b]ᵀ`` is one product, the bias included, and
        :meth:`parameter_gradients` forms ``[dW db] = Gᵀ [X 1]`` with one product too.
        ``out``, if given, is a ``(n_samples, n_out)`` array to write ``Z`` into.
        """
        self._X = X
        if X.shape[-1] != self.W.shape[-1]:
            WbT, _, copies = self.joint()
            if copies:
                WbT[:-1], WbT[-1] = self.W.T, self.b
            return matmul(X, WbT, out)
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
        X = self._X
        if X.shape[-1] == self.W.shape[-1]:
            matmul(G.T, X, self.dW)
            matmul(ones(G.shape[0], G.dtype), G, self.db)
            return
        _, dWbT, copies = self.joint()
        matmul(X.T, G, dWbT)
        if copies:
            self.dW[...], self.db[...] = dWbT[:-1].T, dWbT[-1]

    def factored_parameter_gradients(self, g: Array, w: Array, F: Array, scratch: Array) -> None:
        """:meth:`parameter_gradients` for ``G = (g w) ⊙ F`` after a forward of ``[X 1]``,
        without forming ``G``: ``[dW db]ᵀ = [X 1]ᵀ G = ((g ⊙ [X 1])ᵀ F) ⊙ w``.

        ``G`` factors so when the next layer has one output: ``g = dL/dŶ: (n_samples, 1)``,
        ``w: (1, n_out)`` is that layer's weights and ``F: (n_samples, n_out)`` this
        layer's activation's derivative. The ``(n_samples, n_out)`` matrix ``G`` and its two
        passes cost the walk-through's 1-64-1 step a tenth of its time. ``scratch`` is an
        ``(n_samples, n_in + 1)`` array for ``g ⊙ [X 1]``.
        """
        gX1 = np.multiply(self._X, g, scratch)
        dWbT = np.dot(gX1.T, F, self.joint()[1])
        dWbT *= w
        self.store_joint_gradient(dWbT)

    _joint: tuple[Array, Array, Array, bool] | None = None

    def joint(self) -> tuple[Array, Array, bool]:
        """``[W b]ᵀ`` and ``[dW db]ᵀ``, ``(n_in + 1, n_out)``: the matrices of the products
        with an input ``[X 1]``, and whether they are copies.

        Where :func:`end_to_end` finds them, they are views of ``W``, ``b``, ``dW`` and
        ``db``; otherwise arrays that :meth:`forward` fills from ``W`` and ``b``, and from
        which :meth:`store_joint_gradient` copies. Kept for as long as ``W`` is the same array.
        """
        kept = self._joint
        if kept is None or kept[0] is not self.W:  # a new W: find the views again
            WbT, dWbT = end_to_end(self.W, self.b), end_to_end(self.dW, self.db)
            copies = WbT is None or dWbT is None
            if WbT is None or dWbT is None:
                n_out, n_in = self.W.shape
                WbT, dWbT = np.empty((2, n_in + 1, n_out), self.W.dtype)
            kept = self._joint = (self.W, WbT, dWbT, copies)
        return kept[1], kept[2], kept[3]

    def store_joint_gradient(self, dWbT: Array) -> None:
        """Take ``[dW db]ᵀ``, written into :meth:`joint`'s array, as ``dW`` and ``db``."""
        if self.joint()[2]:
            self.dW[...], self.db[...] = dWbT[:-1].T, dWbT[-1]

    def __getstate__(self) -> dict[str, Any]:
        # The input kept for backward is the last batch's, not the layer's.
        return {k: v for k, v in self.__dict__.items() if k not in ("_X", "_joint")}

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
