"""Input checks shared by the engine, the estimator and the CLI: each error names the problem."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from gradfit import DataError
from gradfit.engine.validation import as_2d_float, check_n_features, check_training_data


def test_a_flat_array_becomes_one_contiguous_float_column() -> None:
    X = as_2d_float(np.arange(6)[::2], "x")
    assert X.shape == (3, 1)
    assert X.dtype == np.float64
    assert X.flags.c_contiguous
    assert_array_equal(X, [[0.0], [2.0], [4.0]])
    assert as_2d_float([[1, 2]], "X", dtype=np.float32).dtype == np.float32
    assert_array_equal(as_2d_float(["1.5", "2"], "x"), [[1.5], [2.0]])  # numbers as text


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([[1.0, 2.0], [3.0, np.nan], [np.nan, 0.0]], r"X holds 2 NaN or infinite.*row 1, column 1"),
        ([1.0, -np.inf], r"X holds 1 NaN or infinite value\(s\), the first at row 1, column 0"),
        ([1.0, None], r"X holds 1 NaN or infinite.*row 1"),
        (["a", "b"], r"X holds non-numeric values \(dtype <U1\)"),
        ([{"a": 1}], r"X holds non-numeric values \(dtype object\)"),
        ([1 + 2j], r"X holds non-numeric values \(dtype complex128\)"),
        (np.array(["2021-01-01"], dtype="M8[D]"), r"non-numeric values \(dtype datetime64"),
        ([], r"X is empty \(shape \(0, 1\)\)"),
        (np.zeros((3, 0)), r"X is empty \(shape \(3, 0\)\).*one column"),
        (np.zeros((2, 2, 2)), r"X must be 1-D or 2-D, got an array of shape \(2, 2, 2\)"),
        (3.0, r"X must be 1-D or 2-D, got an array of shape \(\)"),
        ([[1.0, 2.0], [3.0]], r"X could not be read as an array"),
    ],
    ids=[
        "nan",
        "inf",
        "none",
        "text",
        "object",
        "complex",
        "date",
        "empty",
        "no-columns",
        "3d",
        "scalar",
        "ragged",
    ],
)
def test_bad_input_is_refused_naming_the_problem(values: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        as_2d_float(values, "X")


def test_values_too_large_for_float32_are_named_not_turned_into_inf() -> None:
    with pytest.raises(DataError, match=r"y holds values too large for float32.*1e\+300"):
        as_2d_float([1.0, 1e300], "y", dtype=np.float32)
    assert as_2d_float([1.0, 1e300], "y")[1, 0] == 1e300


def test_training_data_rows_must_match() -> None:
    with pytest.raises(DataError, match="X has 5 rows but y has 4; they must have one row per"):
        check_training_data(np.zeros((5, 2)), np.zeros(4))


def test_training_data_comes_back_2d() -> None:
    X, Y = check_training_data([[1, 2], [3, 4]], [5, 6], dtype=np.float32, n_features=2)
    assert X.shape == (2, 2)
    assert Y.shape == (2, 1)
    assert X.dtype == Y.dtype == np.float32


def test_the_target_is_named_y_in_its_errors() -> None:
    with pytest.raises(DataError, match=r"y holds 1 NaN or infinite"):
        check_training_data(np.zeros((2, 1)), [1.0, np.nan])


def test_feature_count_is_checked() -> None:
    check_n_features(np.zeros((3, 2)), None)
    check_n_features(np.zeros((3, 2)), 2)
    with pytest.raises(DataError, match=r"X has 3 feature.* the network expects 2"):
        check_n_features(np.zeros((3, 3)), 2)
