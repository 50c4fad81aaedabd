"""``gradfit predict``: a saved model's predictions for the rows of a data file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from gradfit.cli.exits import EPILOG
from gradfit.cli.paths import check_output
from gradfit.engine.network import MLP
from gradfit.errors import DataError, ModelFileError
from gradfit.io.tabular import Table, read_table, write_array


@click.command(epilog=EPILOG)
@click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    required=True,
    help="The CSV file of predictions to write, one column per target.",
)
def predict(model_path: Path, data: Path, out_path: Path) -> None:
    """Predict with MODEL (written by `gradfit fit`) for every row of DATA.

    DATA must hold the columns the model was trained on; other columns are ignored.
    """
    from gradfit.io.model import load

    check_output(out_path, what="predictions")
    model = load(model_path)
    table = read_table(data, purpose="predict")
    features = _features(model, table)
    X = table.floats(features, role="feature")
    # Overflow is reported below, as one error, rather than as NumPy warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        if isinstance(model, MLP):
            Y = model.forward(X.astype(model.dtype))
        elif getattr(model, "feature_names_in_", None) is None:
            Y = np.asarray(model.predict(X))
        else:
            import pandas as pd

            # Fitted on a DataFrame, the model checks the names of the one it is given.
            Y = np.asarray(model.predict(pd.DataFrame(X, columns=features)))
    Y = Y.reshape(table.n_rows, -1)
    bad = np.flatnonzero(~np.isfinite(Y).all(axis=1))
    if bad.size:
        raise ModelFileError(
            f"{model_path} gives NaN or infinite predictions for {bad.size} row(s) of {data}, "
            f"the first at row {bad[0] + 1}; the model is unusable there (did its training "
            "diverge?). Nothing was written."
        )
    write_array(out_path, _targets(model, Y.shape[1]), Y)
    click.echo(f"wrote {table.n_rows} predictions to {out_path}")


def _features(model: Any, table: Table) -> list[str]:
    """The columns the model takes: by name when it knows them, else all, in order."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    n_in = model.sizes[0] if isinstance(model, MLP) else model.n_features_in_
    if len(table.columns) != n_in:
        raise DataError(
            f"{table.path}: the model has no feature names and takes {n_in} input(s); "
            f"the file has {len(table.columns)} column(s), so which to use is unclear"
        )
    return table.columns


def _targets(model: Any, n_outputs: int) -> list[str]:
    names = list(getattr(model, "target_names_", None) or [])
    if len(names) == n_outputs:
        return names
    return ["prediction"] if n_outputs == 1 else [f"prediction_{j}" for j in range(n_outputs)]
