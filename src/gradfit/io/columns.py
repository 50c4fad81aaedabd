"""Which of a file's columns are a model's inputs and which its targets."""

from __future__ import annotations

from collections.abc import Sequence

from gradfit.errors import DataError


def feature_target_columns(
    names: list[str], target: Sequence[str], features: Sequence[str] | None, where: str
) -> tuple[list[int], list[int]]:
    """The indices among a file's column ``names`` of the ``features`` (by default every
    column that is not a target) and of the ``target`` columns.

    Raises :class:`DataError`, naming the file (``where``), for a column not found, no
    target, a column that is both, or no feature left.
    """
    index = {name: i for i, name in enumerate(names)}
    wanted = [*target, *(features or [])]
    missing = [c for c in wanted if c not in index]
    if missing:
        raise DataError(
            f"{where}: column(s) {', '.join(map(repr, missing))} not found; "
            f"the file has {', '.join(map(repr, names))}"
        )
    if not target:
        raise DataError(f"{where}: name at least one target column")
    if features is None:
        features = [c for c in names if c not in target]
    both = sorted(set(target) & set(features))
    if both:
        raise DataError(
            f"{where}: column(s) {', '.join(map(repr, both))} are both target and feature; a "
            "column is an input or a target, not both: leave it out of the features"
        )
    if not features:
        raise DataError(f"{where}: no feature columns are left besides the target(s)")
    return [index[c] for c in features], [index[c] for c in target]


def positional_features(
    names: list[str], n_features: int, targets: Sequence[str], where: str
) -> list[str]:
    """The columns among ``names`` that are a model's ``n_features`` inputs, in order, for
    a model that does not name its features: every column when there are
    ``n_features``; else, as a file is split for training (:func:`feature_target_columns`), every
    column that is not one of the model's ``targets``.

    Raises :class:`DataError` naming both counts and what to do when neither gives
    ``n_features`` columns.
    """
    if len(names) == n_features:
        return list(names)
    present = [t for t in targets if t in names]
    if present and len(names) - len(present) == n_features:
        features, _ = feature_target_columns(names, present, None, where)
        return [names[j] for j in features]
    besides = f", or those and its target column(s) {', '.join(map(repr, targets))}"
    raise DataError(
        f"{where}: the model has no feature names and takes {n_features} input(s) by "
        f"position; the file has {len(names)} column(s), so which to use is unclear; give a "
        f"file whose columns are the {n_features} inputs in order{besides if targets else ''}"
    )
