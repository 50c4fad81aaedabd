"""What every compiled loop shares: the ``fastmath`` flags, the activation and optimizer
codes, each activation's and loss's element functions, compiled from its class (each
activation's ``element``/``element_slope``, :mod:`gradfit.engine.activations`; the
Gaussian NLL's ``element``) rather than derived again, and the optimizer's update."""

from __future__ import annotations

import math
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


@jit
def update(
    p: Any, g: Any, m: Any, v: Any, t: int, optimizer: int, hyper: Any
) -> None:  # pragma: no cover - compiled
    """``SGD._step`` / ``Adam._step`` at step ``t``, element by element, operation for
    operation (so the update itself rounds as NumPy's does).

    ``m`` and ``v`` are Adam's flat moment buffers; SGD's momentum buffer ``b`` is ``m``.
    ``hyper``: SGD ``(lr, momentum, dampening, weight_decay, nesterov)``; Adam
    ``(lr, beta1, beta2, eps, weight_decay)``.
    """
    if optimizer == ADAM:
        lr, beta1, beta2, eps, decay = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4]
        # A float exponent: the same pow as Python's, so the same step size to the bit.
        step_size = lr / (1 - beta1 ** float(t))
        correction = math.sqrt(1 - beta2 ** float(t))
        for k in range(p.size):
            gk = g[k] + p[k] * decay if decay else g[k]
            m[k] += (gk - m[k]) * (1 - beta1)
            v[k] = v[k] * beta2 + gk * gk * (1 - beta2)
            p[k] += m[k] / (math.sqrt(v[k]) / correction + eps) * -step_size
        return
    lr, mu, tau, decay, nesterov = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4]
    b = m
    for k in range(p.size):
        gk = g[k] + p[k] * decay if decay else g[k]
        if mu:
            b[k] = gk if t == 1 else b[k] * mu + (1 - tau) * gk
            gk = gk + mu * b[k] if nesterov else b[k]
        p[k] += gk * -lr
