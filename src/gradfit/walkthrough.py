"""The walk-through's from-scratch functions, for one linear layer.

These are the post's R functions in NumPy, kept small and literal so that a reader can
put them side by side with the post; :mod:`gradfit.engine` generalises them to
networks of any depth. The bias is rolled into the weights: ``X = [1, x]``, ``w = [b, a]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gradfit.engine.losses import check_same_shape
from gradfit.engine.types import Array
from gradfit.engine.validation import as_2d_float
from gradfit.errors import DataError


def add_intercept(x: Array) -> Array:
    """``[1, x]``: a column of ones, then ``x``; ``x: (n,)`` or ``(n, k)`` → ``(n, 1 + k)``."""
    X = as_2d_float(x, "x")
    return np.hstack([np.ones((X.shape[0], 1), dtype=X.dtype), X])


def layer(X: Array, w: Array, activation: Callable[[Array], Array] = lambda Z: Z) -> Array:
    """One layer, ``activation(X @ w)``; ``X: (n, p)``, ``w: (p,)`` or ``(p, k)``."""
    X, w = np.asarray(X), np.asarray(w)
    if X.ndim != 2 or X.shape[1] != w.shape[0]:
        raise DataError(f"X of shape {X.shape} cannot be multiplied by w of shape {w.shape}")
    return activation(X @ w)


def squared_loss(pred: Array, y: Array) -> float:
    """The sum of squared errors ``Σ (y - pred)²``; ``pred`` and ``y`` of the same shape."""
    pred, y = np.asarray(pred), np.asarray(y)
    check_same_shape(pred, y)
    r = y - pred
    return float(np.vdot(r, r))


def gradient_step(learning_rate: float, params: Array, grads: Array) -> Array:
    """One step of gradient descent, ``params - learning_rate * grads``."""
    params, grads = np.asarray(params), np.asarray(grads)
    check_same_shape(grads, params, names=("grads", "params"))
    return params - learning_rate * grads


def linear_gradient(X: Array, y: Array, w: Array) -> Array:
    """``dL/dw = -2 Xᵀ (y - X w)`` for ``L = Σ (y - X w)²``.

    ``X: (n, p)``, ``y: (n,)``, ``w: (p,)``; returns ``(p,)``.
    """
    X, y, w = np.asarray(X), np.asarray(y), np.asarray(w)
    pred = layer(X, w)
    check_same_shape(pred, y)
    return -2 * X.T @ (y - pred)


@dataclass(frozen=True)
class Trajectory:
    """What :func:`training_loop` records.

    Attributes
    ----------
    weights : (epochs + 1, p) array
        ``weights[0]`` is the initial vector, ``weights[i + 1]`` the one after update ``i``.
    losses : (epochs,) array
        ``losses[i]`` is the sum of squared errors at ``weights[i]``, before update ``i``.
    """

    weights: Array
    losses: Array

    @property
    def final_weights(self) -> Array:
        return self.weights[-1]


def training_loop(
    x: Array, y: Array, init_w: Array, epochs: int, learning_rate: float
) -> Trajectory:
    """Fit ``y ≈ w₀ + w₁ x`` by full-batch gradient descent on the sum of squared errors.

    Parameters
    ----------
    x, y : (n,) arrays
    init_w : (2,) array
        The initial ``[intercept, slope]``.
    epochs : int
        Number of updates.
    learning_rate : float

    Returns
    -------
    Trajectory
        ``epochs + 1`` weight vectors and ``epochs`` losses.
    """
    X = add_intercept(x)
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (X.shape[0],):
        raise DataError(f"y must have shape ({X.shape[0]},) like x, got {y.shape}")
    w = np.asarray(init_w, dtype=np.float64)
    if w.shape != (X.shape[1],):
        raise DataError(f"init_w must have shape ({X.shape[1]},), got {w.shape}")
    weights = np.empty((epochs + 1, w.size))
    losses = np.empty(epochs)
    weights[0] = w
    for i in range(epochs):
        losses[i] = squared_loss(layer(X, w), y)
        w = gradient_step(learning_rate, w, linear_gradient(X, y, w))
        weights[i + 1] = w
    return Trajectory(weights=weights, losses=losses)
