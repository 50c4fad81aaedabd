"""Gaussian predictive distributions: intervals, and how good they are.

A prediction with uncertainty is a mean ``μ`` and a standard deviation ``σ`` per target
(for an ensemble, the moments of its mixture, which is then read as one Gaussian, as
Lakshminarayanan et al. 2017 do). The metrics take held-out targets ``y`` and those
predictions, all of one shape ``(n_samples,)`` or ``(n_samples, n_outputs)``, in the
target's own units. NumPy and SciPy only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import ndtri

from gradfit.engine.pace import one_blas_thread
from gradfit.engine.types import Array

LOG_2PI = math.log(2 * math.pi)
CALIBRATION_LEVELS = np.linspace(0.01, 0.99, 99)
"""The expected coverages at which calibration is measured."""


def check_coverage(coverage: Any) -> float:
    """``coverage`` as a float strictly between 0 and 1, else one clear ``ValueError``."""
    if isinstance(coverage, bool) or not isinstance(coverage, int | float | np.floating):
        raise ValueError(f"coverage must be a number between 0 and 1, e.g. 0.9; got {coverage!r}")
    if not 0 < coverage < 1:
        raise ValueError(
            f"coverage must lie strictly between 0 and 1 (0.9 is a 90% interval); got {coverage}"
        )
    return float(coverage)


def z_score(coverage: float) -> float:
    """``z`` with ``P(|Z| ≤ z) = coverage`` for ``Z ~ N(0, 1)``: 1.645 for 0.9.

    Taken from the upper tail, ``-Φ⁻¹((1 - coverage) / 2)``: ``Φ⁻¹(½ + coverage / 2)``
    rounds its argument to 1, and ``z`` to infinity, for a coverage within 1e-16 of 1."""
    return float(-ndtri((1 - check_coverage(coverage)) / 2))


def interval(mean: Array, std: Array, coverage: float = 0.9) -> tuple[Array, Array]:
    """The central ``coverage`` interval ``μ ± z σ`` of each Gaussian."""
    z = z_score(coverage)
    return mean - z * std, mean + z * std


def nll(y: Array, mean: Array, std: Array) -> float:
    """Mean negative log-likelihood per target value, ``½ log 2πσ² + (y - μ)²/2σ²``,
    with the ``log 2π`` (as the paper reports it); in nats, in the units of ``y``."""
    var = np.square(std)
    return float(np.mean(0.5 * (LOG_2PI + np.log(var)) + np.square(y - mean) / (2 * var)))


def rmse(y: Array, mean: Array) -> float:
    """Root mean squared error of the means."""
    return float(np.sqrt(np.mean(np.square(y - mean))))


def coverage(y: Array, mean: Array, std: Array, level: float = 0.9) -> float:
    """The share of ``y`` inside the central ``level`` interval."""
    lower, upper = interval(mean, std, level)
    return float(np.mean((lower <= y) & (y <= upper)))


def mean_width(std: Array, level: float = 0.9) -> float:
    """The mean width ``2 z σ`` of the central ``level`` intervals."""
    return float(2 * z_score(level) * np.mean(std))


def calibration_curve(
    y: Array, mean: Array, std: Array, levels: Array = CALIBRATION_LEVELS
) -> tuple[Array, Array]:
    """``(expected, observed)``: for each level, the share of ``y`` its interval covers.

    A calibrated model lies on the diagonal; above it, the intervals are too wide.
    """
    distance = np.abs(y - mean) / std
    z = ndtri(0.5 + np.asarray(levels) / 2)
    observed = (distance.reshape(-1)[None, :] <= z[:, None]).mean(axis=1)
    return np.asarray(levels, dtype=np.float64), observed


def miscalibration_area(y: Array, mean: Array, std: Array) -> float:
    """The mean ``|observed - expected|`` coverage over :data:`CALIBRATION_LEVELS`, which
    approximates the area between the calibration curve and the diagonal (0 is perfect,
    0.5 the worst)."""
    expected, observed = calibration_curve(y, mean, std)
    return float(np.mean(np.abs(observed - expected)))


SLOPE_PENALTY = 100.0
"""``λ`` of :func:`fit_variance_calibration`'s Gaussian prior on the slopes ``w``: a standard
deviation of ``1/√λ = 0.1`` in the log-variance per standard deviation of an input."""


SLOPE_BOUND = 5.0
"""The largest slope :func:`fit_variance_calibration` tries (50 prior standard deviations)."""


def fit_variance_calibration(
    y: Array, mean: Array, var: Array, Z: Array | None = None, *, penalty: float = SLOPE_PENALTY
) -> Array:
    """``(a, c)`` per output that make ``a σ² + c`` the most likely variances of held-out ``y``;
    with inputs ``Z``, also slopes ``w`` that make it ``(a σ² + c) exp(z·w)``.

    A deep ensemble's variance is the members' disagreement plus, with Gaussian heads,
    the noise they learnt; on rows it did not train on both tend to be too small, and
    the disagreement of mean-only members misses the noise altogether. Recalibrating on
    held-out rows (Kuleshov et al. 2018; Levi et al. 2019 scale ``σ²`` alone) with a
    scale ``a`` of the model's variance and a floor ``c`` of noise it did not see
    maximises the Gaussian likelihood

        ``ℓ(a, c, w) = -Σᵢ ½ (log 2π vᵢ + rᵢ² / vᵢ) - ½ λ |w|²``,
        ``vᵢ = (a σᵢ² + c) exp(zᵢ·w)``,  ``rᵢ = yᵢ - μᵢ``,

    over ``a, c > 0`` and ``w`` (in logarithms, by L-BFGS with the exact gradient
    ``∂ℓ/∂log vᵢ = (rᵢ² / vᵢ - 1) / 2``, from two starts: the likelier end is kept).
    Without ``Z`` there is no ``w``, and the optimum sets ``Σᵢ (rᵢ² - vᵢ) σᵢ² / vᵢ² = 0``
    and, unless ``c`` shrinks to nothing, ``Σᵢ (rᵢ² - vᵢ) / vᵢ² = 0``. With it, the noise
    may grow or shrink log-linearly along the inputs (a heteroscedastic floor), each slope
    held near 0 by a Gaussian prior of precision ``λ = penalty``.

    Parameters
    ----------
    y, mean, var : (n_samples, n_outputs) arrays
        Held-out targets and the model's means and variances for them.
    Z : (n_samples, n_features) array or None
        The rows' inputs, standardised (the prior's scale assumes it).

    Returns
    -------
    (2, n_outputs) or (2 + n_features, n_outputs) array
        ``a``, ``c`` of each output, then its slopes ``w`` when ``Z`` is given.
    """
    # Products of a matrix and a vector, a hundred or so: a second BLAS thread only waits
    # (20,000 × 16 rows took 2.7 s on two threads of a busy machine, 0.1 s on one).
    with one_blas_thread():
        return _fit_variance_calibration(y, mean, var, Z, penalty)


def _fit_variance_calibration(
    y: Array, mean: Array, var: Array, Z: Array | None, penalty: float
) -> Array:
    Z = np.zeros((len(y), 0)) if Z is None else np.asarray(Z, dtype=np.float64)
    out = np.empty((2 + Z.shape[1], y.shape[1]))
    for j in range(y.shape[1]):
        r2, v = np.square(y[:, j] - mean[:, j]), var[:, j]
        level = float(np.mean(r2)) or 1.0

        def neg_loglik(p: Array, r2: Array = r2, v: Array = v) -> tuple[float, Array]:
            a, c, w = np.exp(p[0]), np.exp(p[1]), p[2:]
            u = a * v + c
            log_v = np.log(u) + Z @ w
            # r²/v from the logarithm, so that a trial step to a huge a cannot overflow.
            ratio = r2 * np.exp(-log_v)
            dlog = (1 - ratio) / (2 * len(r2))  # ∂(-ℓ/n)/∂log vᵢ
            value = float(np.mean(0.5 * log_v + 0.5 * ratio) + penalty * (w @ w) / (2 * len(r2)))
            grad = np.concatenate(
                [[np.dot(dlog, a * v / u), np.dot(dlog, c / u)], Z.T @ dlog + penalty * w / len(r2)]
            )
            return value, grad

        scale = np.log(np.mean(r2 / v))
        # Bounds far beyond any optimum keep L-BFGS's trial steps from overflowing exp.
        floor, reach = np.log(1e-12 * level), 40.0
        bounds = [(scale - reach, scale + reach), (floor, np.log(level) + reach)]
        bounds += [(-SLOPE_BOUND, SLOPE_BOUND)] * Z.shape[1]
        # The likelihood is not concave: start from the spread explaining all the error and
        # from the noise explaining it all, and keep the likelier end.
        starts = ([scale, np.log(1e-3 * level)], [scale + np.log(1e-3), np.log(level)])
        found = min(
            (minimize(neg_loglik, np.concatenate([start, np.zeros(Z.shape[1])]), jac=True,
                      method="L-BFGS-B", bounds=bounds,
                      options={"gtol": 1e-12, "ftol": 1e-15}) for start in starts),
            key=lambda result: result.fun,
        )  # fmt: skip
        out[:2, j] = np.exp(found.x[:2])
        out[2:, j] = found.x[2:]
    return out


def metrics(y: Array, mean: Array, std: Array, level: float = 0.9) -> dict[str, float]:
    """``nll``, ``rmse``, ``coverage`` and ``width`` of the ``level`` interval, and
    ``miscalibration`` area, as one dictionary."""
    return {
        "nll": nll(y, mean, std),
        "rmse": rmse(y, mean),
        "coverage": coverage(y, mean, std, level),
        "width": mean_width(std, level),
        "miscalibration": miscalibration_area(y, mean, std),
    }
