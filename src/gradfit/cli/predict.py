"""``gradfit predict``: a saved model's predictions for the rows of a data file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import numpy as np

from gradfit.cli.class_outputs import prediction_columns
from gradfit.cli.exits import EPILOG, CommandError, Exit
from gradfit.cli.options import FRACTION
from gradfit.cli.outputs import is_classifier
from gradfit.cli.paths import check_paths
from gradfit.engine.network import MLP
from gradfit.engine.types import Array
from gradfit.errors import DataError, ModelFileError
from gradfit.io.categories import UNSEEN, input_columns
from gradfit.io.tabular import Table, read_table, write_csv, write_rows


@click.command(epilog=EPILOG)
@click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    required=True,
    help="The CSV file of predictions to write ('-' for standard output): one column "
    "per target; for a classifier the label, then P(class) for each class.",
)
@click.option(
    "--interval",
    type=FRACTION,
    metavar="COVERAGE",
    help="Also write the central interval holding this share of the predictive "
    "distribution (e.g. 0.9): columns y, y_lower, y_upper per target y. Needs a model "
    "with a spread (fit --ensemble K, or --loss gaussian_nll).",
)
@click.option(
    "--unseen-categories",
    type=click.Choice(UNSEEN),
    default="error",
    show_default=True,
    help="A category the model did not see in training: refuse it, or encode it as none "
    "of the known ones (other).",
)
def predict(
    model_path: Path, data: Path, out_path: Path, interval: float | None, unseen_categories: str
) -> None:
    """Predict with MODEL (written by `gradfit fit`) for every row of DATA.

    DATA must hold the columns the model was trained on; other columns are ignored.
    """
    from gradfit.model_files import load

    to_stdout = str(out_path) == "-"
    outputs = {} if to_stdout else {"predictions": out_path}
    check_paths({"model": model_path, "data": data}, outputs)
    model = load(model_path)
    if interval is not None and not has_spread(model):
        raise CommandError(
            f"--interval needs a model with a spread; {model_path} is one network with a "
            "mean-only head. Fit it with --ensemble K (K >= 2) or --loss gaussian_nll",
            Exit.USAGE,
        )
    table = read_table(data, purpose="predict")
    for note in table.notes:
        click.echo(f"gradfit: note: {note}", err=True)
    inputs = model_inputs(model, table, unseen=unseen_categories)
    if is_classifier(model):
        header, rows = prediction_columns(model, target_names(model, 1), inputs)
        _write(out_path, header, rows)
        click.echo(f"wrote {table.n_rows} predictions to {out_path}", err=to_stdout)
        return
    Y = predictions(model, inputs, table, model_path)
    names = target_names(model, Y.shape[1])
    if interval is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            lower, upper = model.predict_interval(inputs, coverage=interval)
        bounds = [np.reshape(b, Y.shape) for b in (lower, upper)]
        Y = np.stack([Y, *bounds], axis=2).reshape(table.n_rows, -1)
        names = [f"{name}{end}" for name in names for end in ("", "_lower", "_upper")]
    _write(out_path, names, Y.astype(np.float64).tolist())
    what = f" with {interval:.0%} intervals" if interval is not None else ""
    click.echo(f"wrote {table.n_rows} predictions{what} to {out_path}", err=to_stdout)


def _write(out_path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """The predictions as CSV to ``out_path``, atomically, or to standard output for ``-``."""
    if str(out_path) == "-":
        write_rows(sys.stdout, header, rows)
    else:
        write_csv(out_path, header, rows)


def model_inputs(model: Any, table: Table, *, unseen: str = "error") -> Any:
    """The model's inputs from ``table``: a DataFrame of its features by name when it
    knows them (category columns one-hot encoded with the values it was trained on;
    ``unseen`` says what a new value becomes), else an array of every column, in order."""
    names = getattr(model, "feature_names_in_", None)
    if isinstance(model, MLP) or names is None:
        n_in = model.sizes[0] if isinstance(model, MLP) else model.n_features_in_
        if len(table.columns) != n_in:
            raise DataError(
                f"{table.path}: the model has no feature names and takes {n_in} input(s); "
                f"the file has {len(table.columns)} column(s), so which to use is unclear"
            )
        return table.floats(table.columns, role="feature")
    import pandas as pd

    categories = getattr(model, "categories_", None) or {}
    columns = input_columns([str(n) for n in names], categories)
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
            f"{table.path}, the first at row {bad[0] + 1}; the model is unusable there (did "
            "its training diverge?). Nothing was written."
        )
    return Y


def has_spread(model: Any) -> bool:
    """Whether ``model`` is an estimator whose predictions have a spread."""
    if isinstance(model, MLP) or is_classifier(model):
        return False
    return bool(model.n_members > 1 or model.loss == "gaussian_nll")


def target_names(model: Any, n_outputs: int) -> list[str]:
    """The names the model was trained with, else ``prediction`` or ``prediction_j``."""
    names = list(getattr(model, "target_names_", None) or [])
    if len(names) == n_outputs or is_classifier(model):
        return names
    return ["prediction"] if n_outputs == 1 else [f"prediction_{j}" for j in range(n_outputs)]
