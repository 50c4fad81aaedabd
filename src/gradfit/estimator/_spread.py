"""A regressor's spread: its members' mixture, and the variance calibrated on held-out rows.

A deep ensemble (or one network with a Gaussian head) gives each prediction the mean ``μ``
and variance ``σ²`` of its members' mixture (:func:`gradfit.engine.ensemble.mixture`).
Where the fit held out rows, the predictive variance becomes ``(a σ² + c) exp(z·w)``, ``z``
the standardised inputs, with ``a, c, w`` the most likely on those rows
(:func:`gradfit.uncertainty.fit_variance_calibration`). When each member held out a fold
of its own, a held-out row was seen by the other members: :func:`as_if_unseen` first
moves their predictions there to where an unseen row's would lie (:func:`calibrate_folds`).
All in the network's (standardised) units; outputs are ``(K, n_samples, width)``, with
``width`` twice the targets for a Gaussian head (the means, then the variances' raw values).
"""

from __future__ import annotations

import numpy as np

from gradfit.engine.ensemble import mixture, out_of_bag
from gradfit.engine.losses import GaussianNLL
from gradfit.engine.types import Array
from gradfit.uncertainty import fit_variance_calibration


def means(outputs: Array, *, gaussian: bool) -> Array:
    """Each member's means ``(K, n_samples, n_outputs)`` from its ``outputs``."""
    return GaussianNLL().mean_and_variance(outputs)[0] if gaussian else outputs


def moments(outputs: Array, *, gaussian: bool) -> tuple[Array, Array]:
    """The mixture's mean and variance, ``(n_samples, n_outputs)`` each, of the members'
    ``outputs`` (a single network's with a leading axis of 1)."""
    if gaussian:
        return mixture(*GaussianNLL().mean_and_variance(outputs))
    return mixture(outputs)


def out_of_bag_means(own: Array, held: Array, n_rows: int, *, gaussian: bool) -> Array:
    """Each row's mean ``(n_rows, n_outputs)`` over the members that held it out (NaN where
    none did), from each member's outputs ``own: (K, n_held, width)`` on its held-out
    rows ``held: (K, n_held)``."""
    return out_of_bag(means(own, gaussian=gaussian), held, n_rows)


def calibrate(Y: Array, outputs: Array, Z: Array | None, *, gaussian: bool) -> Array:
    """``(a, c)`` then the slopes ``w``, ``(2 + n_features, n_outputs)`` (``(2, n_outputs)``
    without ``Z``), for rows that no member trained on: targets ``Y: (n, n_outputs)``, the
    members' ``outputs: (K, n, width)`` and the inputs ``Z: (n, n_features)``."""
    mean, var = moments(outputs, gaussian=gaussian)
    return fit_variance_calibration(Y.astype(np.float64), mean, var, Z)


def as_if_unseen(M: Array, Y: Array, unseen: Array) -> Array:
    """The members' means ``M: (K, n, n_outputs)`` on held-out rows (targets ``Y: (n,
    n_outputs)``), each member that trained on a row (``unseen[k, i]`` false) moved to where
    its prediction of an unseen row would lie.

    A member comes closer to the rows it trained on than to new ones. Read that as a
    shrinkage towards the target by a factor ``1 - π`` (uniform, as for a linear smoother
    of constant leverage), and the residual of a trained prediction is ``1 - π`` times an
    unseen one's, so ``(1 - π)²`` is the ratio of the members' mean squared error on the
    rows they trained on to that on the rows they held out. Each trained prediction's
    residual is divided by it: ``μ̃ = y + (μ - y) / (1 - π)``, with
    ``1 / (1 - π) = √(MSE_held / MSE_trained) ≥ 1``, per output; a held-out prediction
    stays as it is.
    """
    E2 = np.square(M - Y)
    trained = ~unseen[..., None] & np.ones_like(E2, dtype=bool)
    if not trained.any() or trained.all():
        return M
    width = M.shape[2]
    held_mse = E2[~trained].reshape(-1, width).mean(axis=0)
    ratio = np.sqrt(np.maximum(held_mse / E2[trained].reshape(-1, width).mean(axis=0), 1.0))
    return np.where(trained, Y + (M - Y) * ratio, M)


def calibrate_folds(
    Y: Array, outputs: Array, unseen: Array, Z: Array | None, *, gaussian: bool
) -> Array:
    """As :func:`calibrate`, for rows held out by some members and trained on by the others
    (``unseen: (K, n)``, k-fold bagging), so that a new row's error and spread can be read
    there: the members' means as if unseen (:func:`as_if_unseen`) give the ensemble's
    mean; its spread is that of the members that trained on the row (moved so), scaled to
    ``K`` members (``K-1``/``K`` of their sample variance), which, unlike the spread of all
    ``K``, does not grow with the held-out member's own error on that row (nor does the
    calibration learn from it a link that a new row will not show). Rows that fewer than
    two members trained on take the spread of all ``K``. A Gaussian head adds the
    members' mean variance."""
    M = as_if_unseen(means(outputs, gaussian=gaussian), Y.astype(np.float64), unseen)
    K = len(M)
    trained = (~unseen).sum(axis=0)[:, None]
    centre = np.where(~unseen[..., None], M, 0).sum(axis=0) / np.maximum(trained, 1)
    squares = np.where(~unseen[..., None], np.square(M - centre), 0).sum(axis=0)
    var = np.where(trained >= 2, squares / np.maximum(trained - 1, 1) * (K - 1) / K,
                   mixture(M)[1])  # fmt: skip
    if gaussian:
        var = var + GaussianNLL().mean_and_variance(outputs)[1].mean(axis=0)
    return fit_variance_calibration(Y.astype(np.float64), M.mean(axis=0), var, Z)


def calibrated(var: Array, calibration: Array | None, slopes: Array | None, Z: Array) -> Array:
    """The predictive variance ``(a σ² + c) exp(z·w)`` of the mixture's ``σ²: (n,
    n_outputs)`` at inputs ``Z: (n, n_features)``; ``σ²`` itself without a calibration,
    and no ``exp(z·w)`` without slopes."""
    if calibration is None:
        return var
    a, c = calibration
    var = a * var + c
    return var if slopes is None else var * np.exp(Z.astype(np.float64) @ slopes)
