"""The regressor's spread (``gradfit.estimator._spread``): members moved as if unseen, by hand."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from gradfit.estimator import _spread


def test_as_if_unseen_by_hand() -> None:
    """Three members, two rows, one output: member 0 held out row 0, member 1 row 1.
    Held-out squared errors 1 and 4 (mean 2.5), trained ones 0.25, 0, 0.25, 0.25 (mean
    3/16): the trained residuals grow by √(2.5 / (3/16)) = √(40/3)."""
    Y = np.array([[1.0], [2.0]])
    M = np.array([[[2.0], [2.5]], [[1.5], [4.0]], [[1.0], [1.5]]])
    unseen = np.array([[True, False], [False, True], [False, False]])
    ratio = np.sqrt(2.5 / (0.75 / 4))
    moved = _spread.as_if_unseen(M, Y, unseen)
    expected = np.array([[[2.0], [2 + 0.5 * ratio]], [[1 + 0.5 * ratio], [4.0]],
                         [[1.0], [2 - 0.5 * ratio]]])  # fmt: skip
    assert_allclose(moved, expected, rtol=1e-15)


def test_members_closer_to_new_rows_than_to_trained_ones_are_left_as_they_are() -> None:
    """The factor is at least 1: a trained member is never pulled towards the target."""
    Y = np.zeros((2, 1))
    M = np.array([[[0.1], [3.0]], [[2.0], [0.2]], [[1.0], [1.0]]])
    unseen = np.array([[True, False], [False, True], [False, False]])
    assert_allclose(_spread.as_if_unseen(M, Y, unseen), M)


def test_the_calibration_applies_scale_floor_and_slopes() -> None:
    var, Z = np.array([[1.0], [4.0]]), np.array([[0.0, 1.0], [2.0, -1.0]])
    calibration, slopes = np.array([[2.0], [0.5]]), np.array([[0.1], [0.3]])
    expected = (2 * var + 0.5) * np.exp(np.array([[0.3], [-0.1]]))
    assert_allclose(_spread.calibrated(var, calibration, slopes, Z), expected, rtol=1e-15)
    assert_allclose(_spread.calibrated(var, calibration, None, Z), 2 * var + 0.5)
    assert _spread.calibrated(var, None, None, Z) is var
