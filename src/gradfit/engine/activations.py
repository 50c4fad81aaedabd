"""Element-wise activations, each with its own derivative.

Every activation keeps what its ``backward`` needs from ``forward``; ``backward(G)``
returns ``dL/dZ`` given ``G = dL/dA``, where ``A = f(Z)``. All arrays are
``(n_samples, n_units)`` and the computation is vectorised over the batch.

Both take ``out=``: an array of the result's shape to write it into, which may be the
input itself. The training loop passes buffers it reuses, so that a step allocates no
batch-sized array; the values are the same either way.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from gradfit.engine.types import Array


class Activation:
    """Base class: ``A = f(Z)`` forward, ``dL/dZ = G * f'(Z)`` backward."""

    name: ClassVar[str] = ""

    def forward(self, Z: Array, out: Array | None = None) -> Array:
        raise NotImplementedError

    def backward(self, G: Array, out: Array | None = None) -> Array:
        raise NotImplementedError

    def derivative(self) -> Array:
        """``f'(Z)`` at the last :meth:`forward`'s ``Z``, of its shape."""
        raise NotImplementedError

    def __getstate__(self) -> dict[str, object]:
        # What forward keeps for backward is a cache of the last batch, not state.
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Identity(Activation):
    """``f(z) = z``; ``f'(z) = 1``."""

    name = "identity"

    def forward(self, Z: Array, out: Array | None = None) -> Array:
        self._shape, self._dtype = Z.shape, Z.dtype
        return Z if out is None or out is Z else _into(out, Z)

    def backward(self, G: Array, out: Array | None = None) -> Array:
        return G if out is None or out is G else _into(out, G)

    def derivative(self) -> Array:
        return np.ones(self._shape, self._dtype)

    @staticmethod
    def element(z: float) -> float:
        """``f(z)`` of one element: the compiled kernel's form of :meth:`forward`."""
        return z

    @staticmethod
    def element_slope(a: float) -> float:
        """``f'(z)`` of one element, from its output ``a = f(z)``: the kernel's
        :meth:`derivative`."""
        return 1.0


class ReLU(Activation):
    """``f(z) = z · 1[z > 0]`` (``max(z, 0)`` for finite ``z``); ``f'(z) = 1[z > 0]``
    (0 at ``z = 0``, as PyTorch).

    The mask is kept in ``Z``'s dtype: multiplying by it costs half what ``max(z, 0)``
    or a boolean mask does.
    """

    name = "relu"
    _mask: Array | None = None

    def forward(self, Z: Array, out: Array | None = None) -> Array:
        mask = self._mask
        if mask is None or mask.shape != Z.shape or mask.dtype != Z.dtype:
            mask = self._mask = np.empty_like(Z)
        np.greater(Z, 0, mask)
        return np.multiply(Z, mask, out)

    def backward(self, G: Array, out: Array | None = None) -> Array:
        mask = self._mask
        return np.multiply(G, self.derivative() if mask is None else mask, out)

    def derivative(self) -> Array:
        if self._mask is None:
            raise RuntimeError("ReLU.derivative needs a forward first")
        return self._mask

    @staticmethod
    def element(z: float) -> float:
        """``f(z) = z · 1[z > 0]`` of one element (NaN and -∞ give NaN, as :meth:`forward`):
        the compiled kernel's form of :meth:`forward`."""
        return z if z > 0 else z * 0

    @staticmethod
    def element_slope(a: float) -> float:
        """``f'(z) = 1[z > 0]`` of one element, read from its output ``a = f(z)`` (``a > 0``
        exactly when ``z > 0``): the kernel's :meth:`derivative`."""
        return 1.0 if a > 0 else 0.0


class Tanh(Activation):
    """``f(z) = tanh z``; ``f'(z) = 1 - tanh² z``."""

    name = "tanh"

    def forward(self, Z: Array, out: Array | None = None) -> Array:
        self._A = np.tanh(Z, out=out)
        return self._A

    def backward(self, G: Array, out: Array | None = None) -> Array:
        return np.multiply(G, 1 - self._A * self._A, out=out)

    def derivative(self) -> Array:
        return 1 - self._A * self._A


class Sigmoid(Activation):
    """``f(z) = 1 / (1 + e^{-z})``; ``f'(z) = f(z) (1 - f(z))``."""

    name = "sigmoid"

    def forward(self, Z: Array, out: Array | None = None) -> Array:
        # Split by sign so that exp never overflows.
        E = np.exp(-np.abs(Z))
        self._A = _into(out, np.where(Z >= 0, 1 / (1 + E), E / (1 + E)))
        return self._A

    def backward(self, G: Array, out: Array | None = None) -> Array:
        return np.multiply(G * self._A, 1 - self._A, out=out)

    def derivative(self) -> Array:
        return self._A * (1 - self._A)


def _into(out: Array | None, A: Array) -> Array:
    """``A``, copied into ``out`` when one is given."""
    if out is None or out is A:
        return A
    np.copyto(out, A)
    return out


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Identity, ReLU, Tanh, Sigmoid)
}


def get_activation(name: str) -> Activation:
    """A new activation by name: one of ``identity``, ``relu``, ``tanh``, ``sigmoid``."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        known = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"unknown activation {name!r}; choose one of: {known}") from None
