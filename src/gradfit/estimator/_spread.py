"""A regressor's spread: its members' mixture, and the variance calibrated on held-out rows.

A deep ensemble (or one network with a Gaussian head) gives each prediction the mean ``μ``
and variance ``σ²`` of its members' mixture (:func:`gradfit.engine.ensemble.mixture`).
Where the fit held out rows, :func:`calibrate` fits ``a σ² + c`` there
(:func:`gradfit.uncertainty.fit_variance_calibration`), and :func:`calibrated` applies
it. All in the network's (standardised) units; outputs are ``(K, n_samples, width)``, with
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


def calibrate(Y: Array, mean: Array, outputs: Array, *, gaussian: bool) -> Array:
    """``(a, c)``, ``(2, n_outputs)``: the most likely ``a σ² + c`` for held-out targets
    ``Y: (n, n_outputs)`` predicted as ``mean: (n, n_outputs)``, with ``σ²`` the mixture's
    variance of the members' ``outputs: (K, n, width)`` on those rows.

    ``mean`` is the mixture's own, or, where each member held out a fold of its own, each
    row's out-of-bag mean (:func:`out_of_bag_means`): an error from members that did not
    train on the row, as the error of a new row will be.
    """
    var = moments(outputs, gaussian=gaussian)[1]
    return fit_variance_calibration(Y.astype(np.float64), mean, var)


def calibrated(var: Array, calibration: Array | None) -> Array:
    """The predictive variance ``a σ² + c`` of the mixture's ``σ²: (n, n_outputs)``; ``σ²``
    itself without a calibration."""
    if calibration is None:
        return var
    a, c = calibration
    return a * var + c
