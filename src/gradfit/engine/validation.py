"""Checks of numeric input, shared by the training functions, the estimator and the CLI.

NumPy only, so it sits in the engine, whose ``train`` checks its data with it.

Every check raises :class:`~gradfit.errors.DataError` with a message that names the
problem (and the column or row, where there is one) and says what to do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DataError


def as_2d_float(A: Any, name: str, *, dtype: Any = np.float64) -> Array:
    """``A`` as a 2-D floating array of ``dtype``; a 1-D array becomes one column.

    Raises :class:`DataError` for non-numeric, empty, 0-D or >2-D input, and for NaN or inf.
    """
    try:
        arr = np.asarray(A)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} could not be read as an array: {exc}") from None
    if arr.dtype.kind not in "biuf":
        try:
            # Complex numbers and dates would convert, silently losing their meaning.
            if arr.dtype.kind in "cmM":
                raise TypeError
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise DataError(
                f"{name} holds non-numeric values (dtype {arr.dtype}); "
                "convert or drop those columns first"
            ) from None
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise DataError(f"{name} must be 1-D or 2-D, got an array of shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(
            f"{name} is empty (shape {arr.shape}); at least one row and one column are needed"
        )
    if not np.isfinite(arr).all():
        rows, cols = np.nonzero(~np.isfinite(arr))
        raise DataError(
            f"{name} holds {rows.size} NaN or infinite value(s), the first at row {rows[0]}, "
            f"column {cols[0]}; drop or impute them before training"
        )
    with np.errstate(over="ignore"):
        narrow = arr.astype(dtype, copy=False)
    if narrow is not arr and not np.isfinite(narrow).all():
        raise DataError(
            f"{name} holds values too large for {np.dtype(dtype).name} (largest magnitude "
            f"{np.abs(arr).max():.3g}); rescale them or train in float64"
        )
    return np.ascontiguousarray(narrow)


def check_training_data(
    X: Any, Y: Any, *, dtype: Any = np.float64, n_features: int | None = None
) -> tuple[Array, Array]:
    """Validate features ``X: (n_samples, n_in)`` and targets ``Y: (n_samples,)`` or
    ``(n_samples, n_out)``; return both 2-D, finite, contiguous and of ``dtype``."""
    X = as_2d_float(X, "X", dtype=dtype)
    Y = as_2d_float(Y, "y", dtype=dtype)
    if X.shape[0] != Y.shape[0]:
        raise DataError(
            f"X has {X.shape[0]} rows but y has {Y.shape[0]}; they must have one row per sample"
        )
    check_n_features(X, n_features)
    return X, Y


def check_n_features(X: Array, n_features: int | None) -> None:
    """Raise :class:`DataError` unless ``X`` has ``n_features`` columns (when given)."""
    if n_features is not None and X.shape[1] != n_features:
        raise DataError(f"X has {X.shape[1]} feature(s) but the network expects {n_features}")
