"""The estimator's data: scikit-learn's input checks, standardisation, a validation split."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import validate_data

from gradfit.datasets import Standardizer
from gradfit.engine.types import Array
from gradfit.errors import DataError, DataTypeError
from gradfit.io.statistics import ColumnStats


def validated(
    est: Any, X: Any, y: Any = "no_validation", *, dtype: Any, reset: bool, numeric_y: bool = True
) -> Any:
    """scikit-learn's ``validate_data`` (which also sets ``n_features_in_`` and
    ``feature_names_in_`` when ``reset``), its ``ValueError`` raised as :class:`DataError`.

    Returns ``X`` of ``dtype``, or ``(X, y)`` when ``y`` is passed (1-D or 2-D, numeric
    unless ``numeric_y=False``, as labels; ``None`` is refused with scikit-learn's message).
    """
    no_y = isinstance(y, str) and y == "no_validation"
    if no_y and not reset and hasattr(X, "take") and hasattr(X, "bounds"):
        # A RowSource (_source.is_source): fit reads one, predict does not.
        raise DataTypeError(
            f"X is {type(X).__name__}, rows read from a file, which fit takes but predict does "
            "not: give the features as an array or DataFrame (a file larger than memory a "
            "chunk at a time, as gradfit predict reads it)"
        )
    if X is None:
        # scikit-learn: 'Expected 2D array, got scalar array instead: array=nan'.
        raise DataTypeError("X is None; pass the features as a 2-D array or a DataFrame")
    kw = {} if no_y else {"multi_output": True, "y_numeric": numeric_y}
    try:
        return validate_data(est, X, y, reset=reset, dtype=dtype, **kw)
    except TypeError as exc:
        # pandas.NA: "float() argument must be … not 'NAType'", "boolean value of NA is
        # ambiguous".
        given = {"X": X} if no_y else {"X": X, "y": y}
        holder = next((name for name, a in given.items() if _holds_pandas_na(a)), None)
        if holder is not None:
            raise DataError(
                f"Input {holder} contains pandas.NA (a missing value); fill those cells, or "
                "drop their rows, first"
            ) from None
        # Sparse input, objects, or column names of mixed types.
        raise DataTypeError(" ".join(str(exc).split())) from None
    except ValueError as exc:
        if hasattr(X, "columns") and len(X.columns) == 0:
            # scikit-learn: 'at least one array or dtype is required'.
            raise DataError(
                f"X has no columns (shape {tuple(X.shape)}); at least one feature is needed"
            ) from None
        message = one_line(str(exc))
        if message.startswith("could not convert string to float"):
            message = f"{message}{_text_cell(X)}"
        raise DataError(message) from None


def _holds_pandas_na(a: Any) -> bool:
    """Whether ``a`` (a DataFrame, Series, pandas array or sequence) holds ``pandas.NA``."""
    import pandas as pd

    try:
        cells = np.asarray(a, dtype=object).ravel()
    except (TypeError, ValueError):
        return False
    return any(c is pd.NA for c in cells)


def _text_cell(X: Any) -> str:
    """Where the first cell of ``X`` that is text and not a number is, and what to do:
    `` (X column 'city', row 3); …``. A DataFrame's cell by its column's name and its
    row's index label, an array's by its positions from 0 (as the engine's checks give
    them); ``""`` when it cannot be found (``X`` neither a DataFrame nor a 2-D array)."""
    import pandas as pd

    if hasattr(X, "columns") and hasattr(X, "iloc"):
        columns = [(repr(str(name)), X.iloc[:, j]) for j, name in enumerate(X.columns)]
        labels = list(X.index)
    else:
        A = np.asarray(X, dtype=object)
        if A.ndim != 2:
            return ""
        columns = [(str(j), pd.Series(A[:, j])) for j in range(A.shape[1])]
        labels = list(range(A.shape[0]))
    for name, col in columns:
        if col.dtype.kind in "biufc":
            continue
        text = col.notna().to_numpy() & pd.to_numeric(col, errors="coerce").isna().to_numpy()
        if text.any():
            return (
                f" (X column {name}, row {labels[int(np.argmax(text))]}); the estimator takes "
                "numbers: encode a text column first (one 0/1 column per category, e.g. "
                "pandas.get_dummies) or leave it out; the command gradfit fit encodes text "
                "columns itself"
            )
    return ""


def one_line(message: str) -> str:
    """scikit-learn's message for bad input as one line that says what to do.

    Its NaN message goes on to recommend other estimators, and its 1-D and complex
    messages print the whole array: the first becomes gradfit's advice, the array is
    left out.
    """
    first = message.split("\n", 1)[0]
    if first.startswith("Input") and ("contains NaN" in first or "contains infinity" in first):
        return f"{first.rstrip('.')}; fill those cells, or drop their rows, first"
    if first.startswith("Complex data not supported"):
        return (
            "Complex data not supported: gradfit works on real numbers; give their real "
            "parts or magnitudes (numpy.real, numpy.abs) instead"
        )
    return " ".join(re.sub(r"\narray=.*?\]\.?\n", " ", message, flags=re.S).split())


def standardizer(
    stats: ColumnStats, name: str = "X", columns: Sequence[str] | None = None
) -> Standardizer:
    """The column means and (population, ``ddof=0``) standard deviations of ``stats``.

    scikit-learn's ``StandardScaler`` convention: one row is allowed, and a constant
    column is only centred. Raises :class:`DataError` for values whose squares
    overflow (``|a| > ~1e154``), which no network could fit either, and for a column
    that varies but whose squares underflow (``|a| < ~1e-154``), which would be taken
    for a constant.
    """
    center, sd = stats.mean, stats.sd
    if not (np.isfinite(center).all() and np.isfinite(sd).all()):
        j = int(np.flatnonzero(~(np.isfinite(center) & np.isfinite(sd)))[0])
        largest = max(abs(stats.low[j]), abs(stats.high[j]))
        raise DataError(
            f"{name} column {_column(j, columns)} holds values too large to standardise "
            f"(largest magnitude "
            f"{largest:.3g}): their squares overflow float64; rescale the "
            "column (divide it by a power of ten) before training"
        )
    # A column whose values differ but whose squared deviations all underflow to 0
    # (|a| < ~1e-154) would be taken for a constant and only centred: the network would
    # see one value, and predict one.
    flat = ~(sd > 0) & (np.asarray(stats.high) > np.asarray(stats.low))
    if flat.any():
        j = int(np.flatnonzero(flat)[0])
        largest = max(abs(stats.low[j]), abs(stats.high[j]))
        raise DataError(
            f"{name} column {_column(j, columns)} holds values too small to standardise "
            f"(largest magnitude "
            f"{largest:.3g}): their squares underflow float64 to 0, so the column would "
            "be taken for a constant; rescale the column (multiply it by a power of ten) "
            "before training"
        )
    return Standardizer(center=center, scale=np.where(sd > 0, sd, 1.0))


def _column(j: int, columns: Sequence[str] | None) -> str:
    """Column ``j`` as an error names it: ``'rate' (column 1)`` given names, else ``1``."""
    return f"{str(columns[j])!r} (column {j})" if columns is not None else str(j)


def split_validation(
    n_samples: int, fraction: float, rng: np.random.Generator, *, strata: Array | None = None
) -> tuple[Array, Array]:
    """Random ``(train_rows, validation_rows)``; at least one row on each side.

    With ``strata: (n_samples,)`` (class labels), each stratum is held out in proportion:
    the rows, shuffled, are grouped by stratum and every ``n / n_val``-th is taken.
    """
    n_val = min(max(1, round(fraction * n_samples)), n_samples - 1)
    order = rng.permutation(n_samples)
    if strata is None:
        return np.sort(order[n_val:]), np.sort(order[:n_val])
    grouped = order[np.argsort(strata[order], kind="stable")]
    picked = np.zeros(n_samples, dtype=bool)
    picked[((np.arange(n_val) + 0.5) * n_samples / n_val).astype(np.int64)] = True
    return np.sort(grouped[~picked]), np.sort(grouped[picked])


def check_every_class_trains(train: Array, strata: Array | None, fraction: float) -> None:
    """Raise :class:`DataError` unless every class of ``strata: (n_samples,)`` keeps a
    training row in ``train``, the rows of one split ``(n_train,)`` or of each member's
    ``(K, n_train)``: a class held out whole is never learnt, and the fit would not say so."""
    if strata is None:
        return
    n_classes = len(np.unique(strata))
    for rows in np.atleast_2d(train):
        missing = n_classes - len(np.unique(strata[rows]))
        if missing:
            raise DataError(
                f"the validation split (validation_fraction={fraction:g} of {len(strata)} "
                f"rows) holds out every row of {missing} of the {n_classes} classes, which "
                "the network would then never learn; hold out a smaller share, or none "
                "(early_stopping=False and validation_fraction=None; on the command line "
                "--no-early-stopping without --validation-fraction)"
            )


def member_splits(
    n_samples: int,
    fraction: float,
    rng: np.random.Generator,
    members: int,
    *,
    strata: Array | None = None,
) -> tuple[Array, Array]:
    """``(train_rows, validation_rows)``, ``(K, n_train)`` and ``(K, n_held)``: a split
    for each of ``members`` networks, as k-fold cross-validation draws them (the
    k-fold bagging of Erickson et al., "AutoGluon-Tabular", 2020).

    The rows are shuffled (grouped by stratum when ``strata`` is given) and cut into
    ``F = round(1 / fraction)`` folds of ``n_held = round(fraction · n)`` evenly spaced
    rows; member ``k`` holds out fold ``k mod F`` of a shuffle drawn afresh every ``F``
    members. With ``F`` members every row is held out by one of them (up to rounding).
    """
    n_val = min(max(1, round(fraction * n_samples)), n_samples - 1)
    step = n_samples / n_val
    folds = max(1, round(1 / fraction))
    train, held = [], []
    for k in range(members):
        if k % folds == 0:
            order = rng.permutation(n_samples)
            if strata is not None:
                order = order[np.argsort(strata[order], kind="stable")]
        picked = np.zeros(n_samples, dtype=bool)
        offset = (k % folds + 0.5) / folds
        picked[order[((np.arange(n_val) + offset) * step).astype(np.int64)]] = True
        train.append(np.flatnonzero(~picked))
        held.append(np.flatnonzero(picked))
    return np.stack(train), np.stack(held)
