"""Text columns with few distinct values as one-hot features.

A feature column none of whose cells is a number, with at most
:data:`MAX_CATEGORIES` distinct values, is a *category column*: it becomes one
0/1 column per value, named ``column=value``, in the values' sorted order. The values
seen in training are kept (the model file stores them), and the same columns are
made from them at prediction; a value not seen in training is an error naming the
column and the value, or — when asked for with ``unseen="other"`` — a row of zeros,
"none of the known values" (scikit-learn's ``OneHotEncoder(handle_unknown="ignore")``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DataError

MAX_CATEGORIES = 32
"""The most distinct values a text column may have to be one-hot encoded."""

IDENTIFIER_ROWS = 10
"""From this many rows, a text column with a different value in every row is refused as an
identifier (a name or code per row) rather than one-hot encoded: each of its one-hot columns
would mark one training row (AutoGluon drops such columns for the same reason)."""

UNSEEN = ("error", "other")
"""What to do with a value not seen in training: refuse it, or encode it as zeros."""

Categories = Mapping[str, Sequence[str]]
"""Each category column's values, in the order of its one-hot columns."""


def encoded_name(column: str, value: str) -> str:
    """The name of the one-hot column of ``value`` in ``column``: ``column=value``."""
    return f"{column}={value}"


def encoded_names(columns: Sequence[str], categories: Categories) -> list[str]:
    """The feature names ``columns`` become, category columns expanded in place."""
    names: list[str] = []
    for column in columns:
        if column in categories:
            names += [encoded_name(column, v) for v in categories[column]]
        else:
            names.append(column)
    return names


def input_columns(names: Sequence[str], categories: Categories) -> list[str]:
    """Undo :func:`encoded_names`: the table columns that give the features ``names``."""
    owner = {encoded_name(c, v): c for c, values in categories.items() for v in values}
    columns: list[str] = []
    for name in names:
        column = owner.get(name, name)
        if column not in columns:
            columns.append(column)
    return columns


def merged_spellings(written: Sequence[str], read: Sequence[str]) -> dict[str, list[str]]:
    """The values of ``read`` (cells stripped of surrounding spaces) that two or more
    spellings of ``written`` (the same cells as written) gave: ``{value: spellings}``."""
    spellings: dict[str, set[str]] = {}
    for w, r in zip(written, read, strict=True):
        if w.strip() == r:  # pairs that differ otherwise (quotes kept) tell nothing
            spellings.setdefault(r, set()).add(w)
    return {r: sorted(ws) for r, ws in sorted(spellings.items()) if len(ws) > 1}


def values_of(column: str, cells: Sequence[str], where: str) -> list[str]:
    """The sorted distinct values of a text column, if few enough to encode and not a
    different one in every row (:data:`IDENTIFIER_ROWS`)."""
    values = sorted(set(cells))
    if len(values) > MAX_CATEGORIES:
        raise DataError(
            f"{where}: column {column!r} holds text with {len(values)} distinct values "
            f"(such as {values[0]!r}); only text columns with at most {MAX_CATEGORIES} "
            "distinct values are encoded as categories; leave it out or convert it to numbers"
        )
    if len(cells) >= IDENTIFIER_ROWS and len(values) == len(cells):
        raise DataError(
            f"{where}: column {column!r} holds a different text in each of its {len(cells)} "
            f"rows (such as {cells[0]!r}): it names the rows rather than sorting them into "
            "categories (each one-hot column would mark one training row); leave it out or "
            "convert it to numbers"
        )
    return values


def case_twin(value: object, known: Sequence[object]) -> object | None:
    """The one of ``known`` that ``value`` matches but for case (``'red'`` for ``'Red'``),
    if any: what an unseen category or label most likely meant."""
    folded = {str(k).casefold(): k for k in known}
    return folded.get(str(value).casefold())


def one_hot(
    column: str,
    cells: Sequence[str],
    values: Sequence[str],
    *,
    unseen: str,
    where: Callable[[int], str],
) -> Array:
    """``(len(cells), len(values))`` indicators of ``cells`` among ``values``.

    ``where(i)`` names row ``i`` in messages. A cell not among ``values`` raises
    :class:`DataError` with ``unseen="error"``, and is all zeros with ``"other"``.
    """
    index = {v: k for k, v in enumerate(values)}
    codes = np.fromiter((index.get(c, -1) for c in cells), dtype=np.int64, count=len(cells))
    new = np.flatnonzero(codes < 0)
    if new.size and unseen == "error":
        i = int(new[0])
        shown = ", ".join(map(repr, values[:8])) + (", …" if len(values) > 8 else "")
        near = case_twin(cells[i], values)
        spelt = f", which differs from {near!r} only in case" if near is not None else ""
        raise DataError(
            f"column {column!r}, {where(i)}: the category {cells[i]!r} was not seen in "
            f"training (known: {shown}; {new.size} such cell(s)){spelt}; pass "
            "--unseen-categories other to encode it as none of the known values"
            + (f", or write it {near!r} as in training" if near is not None else "")
        )
    out: Array = np.zeros((len(cells), len(values)))
    seen = codes >= 0
    out[np.flatnonzero(seen), codes[seen]] = 1.0
    return out


def check_categories(
    categories: object, feature_names: Sequence[str] | None
) -> dict[str, list[str]]:
    """``categories`` from a model file, if well formed: each column's distinct text values,
    whose one-hot columns are all among ``feature_names``. Raises ``ValueError``."""
    if not isinstance(categories, dict):
        raise ValueError("categories is not a JSON object")
    for column, values in categories.items():
        if not (
            isinstance(values, list)
            and values
            and all(isinstance(v, str) for v in values)
            and len(set(values)) == len(values)
        ):
            raise ValueError(f"the categories of {column!r} are not a list of distinct strings")
        names = set() if feature_names is None else {str(n) for n in feature_names}
        missing = [v for v in values if encoded_name(column, v) not in names]
        if missing:
            raise ValueError(
                f"the category {missing[0]!r} of {column!r} has no input among the features"
            )
    return {str(c): list(v) for c, v in categories.items()}
