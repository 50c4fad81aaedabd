"""``gradfit predict``: a saved model's predictions for the rows of a data file.

The file is read, predicted and written a chunk of rows at a time (``--chunk-rows``),
so memory is bounded by a chunk whatever the size of the file: a CSV, Parquet or
``.npy`` file, read as ``gradfit fit`` reads it. The output appears whole or not at
all: a file is written beside ``--out`` and renamed over it at the end, and standard
output (``--out -``) gets the rows only once every chunk is predicted, so a bad cell in
the last chunk leaves no partial table that a pipeline would take for the whole.
"""

from __future__ import annotations

import contextlib
import csv
import sys
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import click
import numpy as np

from gradfit.cli.class_outputs import prediction_columns
from gradfit.cli.exits import EPILOG, CommandError, Exit
from gradfit.cli.options import FRACTION, chunk_rows_option, unseen_categories_option
from gradfit.cli.outputs import is_classifier, noted
from gradfit.cli.paths import InputFile, OutputFile, check_paths
from gradfit.engine.network import MLP
from gradfit.engine.types import Array
from gradfit.errors import ModelFileError
from gradfit.io.atomic import atomic_write, content, whole_or_nothing
from gradfit.io.categories import input_columns
from gradfit.io.columns import positional_features
from gradfit.io.table import LEAVE_OUT, Table
from gradfit.io.tabular import Cell, read_chunks


@click.command(epilog=EPILOG)
@click.argument("model_path", metavar="MODEL", type=InputFile("model", Exit.BAD_MODEL))
@click.argument("data", type=InputFile("data", Exit.BAD_DATA))
@click.option(
    "--out",
    "out_path",
    type=OutputFile("predictions", stdout=True),
    required=True,
    help="The CSV file of predictions to write ('-' for standard output, written once "
    "every row is predicted, so an error leaves it empty): one column per target; for "
    "a classifier the label, then P(class) for each class.",
)
@click.option(
    "--keep",
    "keep",
    multiple=True,
    metavar="COLUMN",
    help="Copy this column of DATA into the output, before the predictions, as it is "
    "written there (repeatable): an id to join the predictions back on ('' for the "
    "unnamed index column DataFrame.to_csv() writes first).",
)
@click.option(
    "--interval",
    type=FRACTION,
    metavar="COVERAGE",
    help="Also write the central interval holding this share of the predictive "
    "distribution (e.g. 0.9): columns y, y_lower, y_upper per target y. Needs a model "
    "with a spread (fit --ensemble K, or --loss gaussian_nll).",
)
@unseen_categories_option()
@chunk_rows_option("read, predicted and written")
def predict(
    model_path: Path,
    data: Path,
    out_path: Path,
    keep: tuple[str, ...],
    interval: float | None,
    unseen_categories: str,
    chunk_rows: int | None,
) -> None:
    """Predict with MODEL (written by `gradfit fit`) for every row of DATA.

    DATA must hold the columns the model was trained on; other columns are ignored. A
    .npy file's columns are named by their index (0, 1, …), as fit names them.
    """
    from gradfit.model_files import load

    to_stdout = str(out_path) == "-"
    outputs = {} if to_stdout else {"predictions": out_path}
    check_paths({"model": model_path, "data": data}, outputs)
    twice = sorted({c for c in keep if keep.count(c) > 1})
    if twice:
        raise CommandError(f"--keep {twice[0]!r} is given twice; name each column once", Exit.USAGE)
    model = load(model_path)
    # A kept column that is no input is carried through as written, 'NaN' and all.
    inputs = set(input_columns(feature_names(model), getattr(model, "categories_", None) or {}))
    if not to_stdout:
        _check_not_data(out_path, inputs, model_path)
    if interval is not None and is_classifier(model):
        raise CommandError(
            f"--interval is for regressors; {model_path} is a classifier, whose predictions "
            "give P(class) for every class instead. Leave --interval out",
            Exit.USAGE,
        )
    if interval is not None and not has_spread(model):
        raise CommandError(
            f"--interval needs a model with a spread; {model_path} is one network with a "
            "mean-only head. Fit it with --ensemble K (K >= 2) or --loss gaussian_nll",
            Exit.USAGE,
        )
    n_rows = 0
    with _output(out_path) as f:
        writer = csv.writer(f, lineterminator="\n")
        verbatim = [c for c in keep if c not in inputs]
        chunks = noted(
            read_chunks(data, chunk_rows, text=keep, verbatim=verbatim, purpose="predict")
        )
        for table in chunks:
            header, rows = prediction_rows(
                model, table, model_path, interval, unseen_categories, rest=chunks
            )
            if keep:
                header, rows = _kept(table, keep, header, rows)
            if n_rows == 0:
                _check_unique(header, model_path)
                writer.writerow(header)
            writer.writerows(rows)
            n_rows += table.n_rows
    what = f" with {percent(interval)} intervals" if interval is not None else ""
    # On stderr for '-': standard output holds the CSV alone, and no file is named '-'.
    where = "standard output" if to_stdout else out_path
    click.echo(f"wrote {n_rows} predictions{what} to {where}", err=to_stdout)


def _check_not_data(out_path: Path, inputs: set[str], model_path: Path) -> None:
    """Refuse to replace a CSV whose header names every input column of the model: that
    is data the model reads (the training set, say), not the last run's predictions,
    which ``--out`` may replace (:func:`~gradfit.cli.paths.check_kind` lets any text
    through). Predictions hold the inputs only where ``--keep`` copied each of them; such
    a file is refused too, as it cannot be told from data by its header."""
    if not inputs or not out_path.is_file() or content(out_path) != "text":
        return
    with open(out_path, encoding="utf-8", errors="replace", newline="") as f:
        lines = (line for line in f if not line.startswith("#"))  # as fit skips them
        header = {c.strip() for c in next(csv.reader(lines), [])}
    if inputs <= header:
        named = sorted(inputs)
        listed = ", ".join(repr(c) for c in named[:3]) + (", …" if len(named) > 3 else "")
        raise CommandError(
            f"cannot write the predictions to '{out_path}': its header names every input "
            f"column of {model_path} ({listed}), as data does, which would be lost; choose "
            "another path, or move that file away first",
            Exit.USAGE,
        )


def percent(share: float) -> str:
    """``share`` as a percentage, as exactly as it was typed: 0.9 is 90%, but
    0.9999999999999999 is no 100% interval, nor 1e-300 a 0% one."""
    exact = Decimal(repr(share)).scaleb(2)
    return f"{exact:f}%" if exact >= Decimal("0.001") else f"{exact:g}%"


@contextlib.contextmanager
def _output(out_path: Path) -> Iterator[IO[str]]:
    """``out_path``, or standard output for ``-``; either gets the whole CSV or nothing.

    A file is written atomically (an error on the way leaves what was there before).
    Standard output cannot be taken back once written, so its rows wait in a temporary
    file until the last chunk is predicted (:func:`~gradfit.io.atomic.whole_or_nothing`):
    streaming them would leave a table cut short at the bad row, with a header and no
    sign in it that rows are missing, for the next command of a pipeline to take as the
    whole. Memory stays bounded by a chunk either way.
    """
    if str(out_path) == "-":
        with whole_or_nothing(sys.stdout) as f:
            yield f
    else:
        with atomic_write(out_path, "w") as f:
            yield f


def prediction_rows(
    model: Any,
    table: Table,
    model_path: Path,
    interval: float | None,
    unseen: str,
    *,
    rest: Iterable[Table] = (),
) -> tuple[list[str], list[list[Cell]]]:
    """The header and rows ``predict`` writes for the rows of ``table``: one column per
    target (with its interval's ends), or a classifier's label and probabilities.
    ``rest``: the file's later chunks, read to count missing cells over the file."""
    inputs = model_inputs(model, table, unseen=unseen, rest=rest)
    if is_classifier(model):
        return prediction_columns(model, target_names(model, 1), inputs)
    Y = predictions(model, inputs, table, model_path)
    names = target_names(model, Y.shape[1])
    if interval is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            lower, upper = model.predict_interval(inputs, coverage=interval)
        bounds = [np.reshape(b, Y.shape) for b in (lower, upper)]
        Y = np.stack([Y, *bounds], axis=2).reshape(table.n_rows, -1)
        names = [f"{name}{end}" for name in names for end in ("", "_lower", "_upper")]
    return names, Y.astype(np.float64).tolist()


def _kept(
    table: Table, keep: tuple[str, ...], header: list[str], rows: list[list[Cell]]
) -> tuple[list[str], list[list[Cell]]]:
    """``header`` and ``rows`` with the columns ``keep`` of ``table`` before them."""
    import pandas as pd

    table.require(keep, role="--keep")
    clash = [c for c in keep if c in header]
    if clash:
        raise CommandError(
            f"--keep {clash[0]!r}: the predictions have a column of that name; keep "
            "another column, or rename this one in the data",
            Exit.USAGE,
        )
    cells = table.frame[list(keep)].astype(object).to_numpy().tolist()
    kept = [[None if pd.isna(v) else v for v in ids] for ids in cells]
    return [*keep, *header], [ids + row for ids, row in zip(kept, rows, strict=True)]


def _check_unique(header: list[str], model_path: Path) -> None:
    """Refuse a header naming a column twice: a target named as a column made from
    another one, such as ``P(dog)`` beside class ``dog``, or ``y_lower`` beside ``y``."""
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise CommandError(
            f"the predictions of {model_path} would have two columns named {twice[0]!r} (a "
            "target named as the P(class) or _lower/_upper column of another); rename that "
            "target column in the data and fit again",
            Exit.USAGE,
        )


def feature_names(model: Any) -> list[str]:
    """The model's input columns by name; none for a model that takes them by position."""
    names = None if isinstance(model, MLP) else getattr(model, "feature_names_in_", None)
    return [] if names is None else [str(n) for n in names]


def model_inputs(
    model: Any, table: Table, *, unseen: str = "error", rest: Iterable[Table] = ()
) -> Any:
    """The model's inputs from ``table``: a DataFrame of its features by name when it
    knows them (category columns one-hot encoded with the values it was trained on;
    ``unseen`` says what a new value becomes), else an array of its inputs by position
    (:func:`~gradfit.io.columns.positional_features`). ``rest``: the file's later chunks,
    read to count missing cells over the file (:meth:`~gradfit.io.table.Table.check_missing`)."""
    names = getattr(model, "feature_names_in_", None)
    if isinstance(model, MLP) or names is None:
        n_in = model.sizes[0] if isinstance(model, MLP) else model.n_features_in_
        targets = list(getattr(model, "target_names_", None) or [])
        columns = positional_features(table.columns, n_in, targets, str(table.path))
        table.require(columns, role="feature")
        table.check_missing(columns, rest, advice=LEAVE_OUT)
        return table.floats(columns, role="feature")
    import pandas as pd

    categories = getattr(model, "categories_", None) or {}
    columns = input_columns([str(n) for n in names], categories)
    table.require(columns, role="feature")
    table.check_missing(columns, rest, advice=LEAVE_OUT)
    X, encoded, _ = table.features(columns, categories, unseen=unseen)
    return pd.DataFrame(X, columns=encoded)


def predictions(model: Any, inputs: Any, table: Table, model_path: Path) -> Array:
    """``model``'s predictions ``(n_rows, n_outputs)`` for ``inputs`` (from
    :func:`model_inputs`); :class:`ModelFileError` when one is not finite."""
    # Overflow is reported below, as one error, rather than as NumPy warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        if isinstance(model, MLP):
            Y = model.forward(inputs.astype(model.dtype))
        else:
            Y = np.asarray(model.predict(inputs))
    Y = Y.reshape(table.n_rows, -1)
    bad = np.flatnonzero(~np.isfinite(Y).all(axis=1))
    if bad.size:
        raise ModelFileError(
            f"{model_path} gives NaN or infinite predictions for {bad.size} row(s) of "
            f"{table.path}, the first at row {int(table.frame.index[bad[0]]) + 1}; the model "
            "is unusable there (did its training diverge?). No output file was written."
        )
    return Y


def has_spread(model: Any) -> bool:
    """Whether ``model`` is an estimator whose predictions have a spread."""
    if isinstance(model, MLP) or is_classifier(model):
        return False
    return bool(getattr(model.net_, "n_members", 1) > 1 or model.loss == "gaussian_nll")


def target_names(model: Any, n_outputs: int) -> list[str]:
    """The names the model was trained with, else ``prediction`` or ``prediction_j``."""
    names = list(getattr(model, "target_names_", None) or [])
    if len(names) == n_outputs or is_classifier(model):
        return names
    return ["prediction"] if n_outputs == 1 else [f"prediction_{j}" for j in range(n_outputs)]
