"""What ``gradfit fit`` trains on when it reads the whole table into memory.

A CSV (and, without ``--distributed``, Parquet and ``.npy``) is read by
:func:`~gradfit.io.tabular.read_table`; its text columns become one-hot features, and the
target decides the task. ``--distributed`` reads ``.npy`` and Parquet in chunks instead
(:func:`~gradfit.io.arrays.open_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import click
import numpy as np

from gradfit.cli.exits import CommandError, Exit
from gradfit.cli.task import decide, most_classes, spelled
from gradfit.engine.types import Array
from gradfit.errors import DataError
from gradfit.io.categories import merged_spellings
from gradfit.io.hints import written_as
from gradfit.io.table import Table
from gradfit.io.tabular import read_table


@dataclass(frozen=True)
class InMemory:
    """A table read for training: ``X`` (encoded), ``y`` (numbers, or labels when
    ``labels`` is set: the line that says so), the encoded feature names, and the
    categories of the text columns."""

    X: Array
    y: Array
    features: tuple[str, ...]
    categories: dict[str, list[str]]
    labels: str | None

    def target_codes(self) -> Array:
        """The targets as a float matrix: numbers as they are, labels by their index."""
        y = self.y
        if self.labels is not None:
            y = np.unique(y, return_inverse=True)[1].astype(np.float64)
        return y.reshape(y.shape[0], -1)


def read_training_table(
    data: Path,
    targets: tuple[str, ...],
    features: tuple[str, ...],
    *,
    task: str | None,
    drop_missing: bool,
    say: bool,
) -> InMemory:
    """Read ``data`` into memory for training; notes go to stderr when ``say``."""
    table = read_table(data, min_rows=2, purpose="fit a model")
    if say:
        for note in table.notes:
            click.echo(f"gradfit: note: {note}", err=True)
    chosen = feature_columns(table, targets, features)
    whole = table
    if drop_missing:
        table = without_missing(table, [*chosen, *targets], say=say)
    table.check_missing([*chosen, *targets])
    try:
        X, encoded, categories = table.features(chosen)
    except DataError as exc:
        if features:
            raise
        raise DataError(
            f"{exc} (without --features every column but the targets is an input; "
            "name the inputs with --features to leave this one out)"
        ) from None
    decided = decide(table, targets, task)
    if decided.y is not None and len(targets) == 1:
        decided = replace(decided, y=spelled(whole, table, targets[0], decided.y))
    if say:
        labels = decided.y is not None and decided.y.dtype.kind in "OUS"
        for name in [*categories, *(targets if labels else ())]:
            say_merged_spellings(whole, name, "category" if name in categories else "class")
    if decided.y is None:
        Y = table.floats(targets, role="target")
        return InMemory(X, Y[:, 0] if len(targets) == 1 else Y, tuple(encoded), categories, None)
    if decided.y.ndim == 1:
        check_classes(table.path, targets[0], decided.y)
    return InMemory(X, decided.y, tuple(encoded), categories, decided.describe(targets))


def check_classes(path: Path | str, name: str, y: Array) -> None:
    """Raise :class:`DataError` unless the labels ``y: (n_rows,)`` of column ``name`` can
    train a classifier: two classes or more, and at most half as many classes as rows
    (the rule by which integers are taken for labels), so that classes have rows to learn
    from. Said here, in the column's name: the estimator would call it "y"."""
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) == 1:
        raise DataError(
            f"{path}: column {name!r} holds one label only ({str(classes[0])!r}); "
            "a classifier needs rows of two or more, or fit numbers with --task regression"
        )
    if len(classes) > most_classes(len(y)):
        # An id or free text: a one-hot target of n_rows × n_classes (20,000 ids: 3 GB).
        raise DataError(
            f"{path}: column {name!r} holds {len(classes)} distinct labels in {len(y)} rows "
            f"({int(np.count_nonzero(counts == 1))} of them on one row only); a classifier "
            "learns each class from its rows, and needs at most half as many classes as "
            "rows (is it an id, or free text?): choose another --target, or fit numbers "
            "with --task regression"
        )


def say_merged_spellings(table: Table, name: str, kind: str) -> None:
    """Warn, in one line, when text column ``name`` of ``table`` (read whole) holds
    values that differ only by the spaces around them: gradfit reads them as one
    ``kind`` (``"class"``, ``"category"``), as a person would, but says so."""
    read = table.frame[name].astype(str).str.strip().tolist()
    merged = merged_spellings(table.as_written(name), read)
    if not merged:
        return
    groups = [
        f"{' and '.join(map(repr, spellings))} as {value!r}" for value, spellings in merged.items()
    ]
    click.echo(
        f"gradfit: warning: {table.path}: column {name!r}: values that differ only by the "
        f"spaces around them are read as one {kind}: {'; '.join(groups)}; if they are "
        f"different, name them apart in the data",
        err=True,
    )


def check_names(targets: tuple[str, ...], features: tuple[str, ...]) -> None:
    """Refuse a column named twice, among the targets, the features, or in both."""
    for option, names in (("--target", targets), ("--features", features)):
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise CommandError(
                f"{option} names {', '.join(map(repr, repeated))} more than once; "
                "name each column once",
                Exit.USAGE,
            )
    both = sorted(set(features) & set(targets))
    if both:
        raise CommandError(
            f"column(s) {', '.join(map(repr, both))} given as both --features and --target; "
            "a column is an input or a target, not both: leave it out of --features",
            Exit.USAGE,
        )


def feature_columns(
    table: Table, targets: tuple[str, ...], features: tuple[str, ...]
) -> tuple[str, ...]:
    table.require(targets, role="target")
    if features:
        table.require(features, role="feature")
        return features
    rest = tuple(c for c in table.columns if c not in targets)
    if not rest:
        named = ", ".join(repr(c) for c in table.columns)
        raise CommandError(
            f"{table.path}: no column is left as an input: the file has only {named}, "
            "named by --target; a model needs at least one input column besides its targets",
            Exit.BAD_DATA,
        )
    return rest


def without_missing(table: Table, columns: list[str], *, say: bool) -> Table:
    """``table`` without its rows that miss a cell of ``columns``, saying how many went
    (when ``say``)."""
    counts = table.missing(columns)
    kept, dropped = table.drop_missing(columns)
    if dropped and say:
        where = ", ".join(
            f"column {name!r}: {k}{written_as(table.missing_words(name), lead=' ')}"
            for name, k in counts.items()
        )
        click.echo(
            f"gradfit: note: dropped {dropped} of {table.n_rows} rows with missing cells "
            f"({where}); {kept.n_rows} rows remain",
            err=True,
        )
    if kept.n_rows < 2:
        raise DataError(
            f"{table.path}: only {kept.n_rows} row(s) have no missing cell; at least 2 are "
            "needed to fit a model"
        )
    return kept
