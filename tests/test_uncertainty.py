"""gradfit.uncertainty: intervals and metrics worked by hand and on known Gaussians."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradfit import uncertainty as u


def test_interval_and_z_by_hand() -> None:
    assert u.z_score(0.9) == pytest.approx(1.6448536269514722, rel=1e-15)
    assert u.z_score(0.6826894921370859) == pytest.approx(1.0, rel=1e-12)
    # Within 1e-16 of 1 (predict --interval 0.9999999999999999 wrote ±inf): finite, and
    # scipy's norm.isf(2**-54), the upper tail when 1 - coverage = 2**-53 exactly.
    assert u.z_score(1 - 2**-53) == pytest.approx(8.292361075813597, rel=1e-12)
    lower, upper = u.interval(np.array([1.0, 2.0]), np.array([1.0, 0.5]), 0.9)
    assert_allclose(lower, [1 - 1.6448536269514722, 2 - 0.8224268134757361])
    assert_allclose(upper, [1 + 1.6448536269514722, 2 + 0.8224268134757361])


@pytest.mark.parametrize("bad", [0, 1, 1.2, -0.1, "0.9", None, True, float("nan")])
def test_a_coverage_outside_zero_one_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="coverage must"):
        u.check_coverage(bad)


def test_metrics_by_hand() -> None:
    y, mean, std = np.array([1.0, 3.0]), np.array([0.0, 3.0]), np.array([1.0, 2.0])
    nll = np.mean([0.5 * math.log(2 * math.pi) + 0.5, 0.5 * math.log(2 * math.pi * 4)])
    assert u.nll(y, mean, std) == pytest.approx(nll, rel=1e-14)
    assert u.rmse(y, mean) == pytest.approx(math.sqrt(0.5), rel=1e-14)
    assert u.coverage(y, mean, std, 0.9) == 1.0
    assert u.coverage(y, mean, std, 0.5) == 0.5  # |1 - 0| > 0.674·1
    assert u.mean_width(std, 0.9) == pytest.approx(2 * 1.6448536269514722 * 1.5, rel=1e-14)


def test_a_calibrated_gaussian_lies_on_the_diagonal_and_an_overconfident_one_below() -> None:
    rng = np.random.default_rng(0)
    mean, std = rng.normal(size=20_000), rng.uniform(0.5, 2, size=20_000)
    y = mean + std * rng.normal(size=20_000)
    expected, observed = u.calibration_curve(y, mean, std)
    assert np.abs(observed - expected).max() < 0.015
    assert u.miscalibration_area(y, mean, std) < 0.005
    assert u.coverage(y, mean, std, 0.9) == pytest.approx(0.9, abs=0.006)
    half = u.calibration_curve(y, mean, std / 2)[1]
    assert (half[10:-1] < expected[10:-1]).all()
    assert u.miscalibration_area(y, mean, std / 2) > 0.1


def test_metrics_gathers_them_all() -> None:
    y, mean, std = np.array([0.5, -1.0, 2.0]), np.zeros(3), np.ones(3)
    m = u.metrics(y, mean, std)
    assert set(m) == {"nll", "rmse", "coverage", "width", "miscalibration"}
    assert m["rmse"] == u.rmse(y, mean) and m["nll"] == u.nll(y, mean, std)
