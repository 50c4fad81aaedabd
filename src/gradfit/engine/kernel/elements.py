"""What every compiled loop shares: the ``fastmath`` flags, the activation and optimizer
codes, and each activation's and loss's element functions, compiled from its class (each
activation's ``element``/``element_slope``, :mod:`gradfit.engine.activations`; the
Gaussian NLL's ``element``) rather than derived again."""

from __future__ import annotations

from typing import Any

from gradfit.engine.activations import Identity, ReLU
from gradfit.engine.kernel.cache import jit
from gradfit.engine.losses import GaussianNLL

SUMS = {"reassoc", "nsz", "contract"}
"""Reassociation lets sums vectorise, and contraction fuses a product and a sum into one
multiply-add (one rounding instead of two); the results differ from NumPy's in the last
bits."""

IDENTITY, RELU = 0, 1
"""Activation codes; the engine's :class:`~gradfit.engine.Identity` and ``ReLU``."""

SGD, ADAM = 0, 1
"""Optimizer codes; the engine's :class:`~gradfit.engine.SGD` and ``Adam``."""

relu, relu_slope = jit(ReLU.element, inline="always"), jit(ReLU.element_slope, inline="always")
identity = jit(Identity.element, inline="always")
identity_slope = jit(Identity.element_slope, inline="always")
gaussian_element = jit(GaussianNLL.element, inline="always")


@jit(inline="always")
def activate(code: int, z: Any) -> Any:
    """The activation ``code``'s ``f(z)``, from its class (``ReLU.element``, ...)."""
    return relu(z) if code == RELU else identity(z)


@jit(inline="always")
def derivative(code: int, a: Any) -> Any:
    """The activation ``code``'s ``f'(z)`` read from ``a = f(z)`` (``ReLU.element_slope``, ...)."""
    return relu_slope(a) if code == RELU else identity_slope(a)
