"""``gradfit evaluate``: how well a saved model predicts the targets of a labelled file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gradfit.cli.exits import EPILOG, CommandError, Exit
from gradfit.cli.outputs import is_classifier
from gradfit.cli.predict import model_inputs, predictions, target_names
from gradfit.cli.scores import score, table
from gradfit.io.tabular import Table, read_table


@click.command(epilog=EPILOG)
@click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--target",
    "targets",
    multiple=True,
    help="Column holding each output's true values, in order (repeatable); "
    "default: the target names the model was trained with.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the scores as one JSON object.")
def evaluate(model_path: Path, data: Path, targets: tuple[str, ...], as_json: bool) -> None:
    """Score MODEL (written by `gradfit fit`) on the labelled rows of DATA.

    Prints R² (1 - residual sum of squares / total sum of squares), RMSE and MAE, the
    last two in the target's own units, for every target; for a classifier, accuracy,
    balanced accuracy, log loss and the confusion matrix. DATA must hold the model's
    input columns and its target columns.
    """
    from gradfit.io.model import load

    model = load(model_path)
    rows = read_table(data, purpose="evaluate a model")
    if is_classifier(model):
        _evaluate_classifier(model, model_path, rows, targets, as_json)
        return
    Y_hat = predictions(model, model_inputs(model, rows), rows, model_path)
    names = list(targets) or target_names(model, Y_hat.shape[1])
    if len(names) != Y_hat.shape[1]:
        raise CommandError(
            f"{model_path} predicts {Y_hat.shape[1]} output(s); give one --target per output "
            f"(got {len(names)})",
            Exit.USAGE,
        )
    if not targets and not getattr(model, "target_names_", None):
        raise CommandError(
            f"{model_path} does not name its target(s); say which column(s) of {data} hold "
            "the true values with --target",
            Exit.USAGE,
        )
    scores = score(rows.floats(names, role="target"), Y_hat, names)
    if as_json:
        click.echo(json.dumps({s.target: s.as_dict() for s in scores}))
    else:
        click.echo(table([(str(data), s) for s in scores]))


def _evaluate_classifier(
    model: Any, model_path: Path, rows: Table, targets: tuple[str, ...], as_json: bool
) -> None:
    """Print the classifier's scores on ``rows`` (labels in ``targets``, or its own)."""
    from gradfit.cli.class_outputs import scores
    from gradfit.cli.task import decide

    names = targets or tuple(getattr(model, "target_names_", None) or ())
    if not names:
        raise CommandError(
            f"{model_path} does not name its target; say which column of {rows.path} holds "
            "the labels with --target",
            Exit.USAGE,
        )
    if as_json:
        raise CommandError("--json scores regressors; a classifier's are printed", Exit.USAGE)
    y = decide(rows, names, "classification").y
    assert y is not None
    if y.dtype.kind in "iu" and model.classes_.dtype.kind == "U":
        y = y.astype(str)
    click.echo(f"{model_path} on {rows.path} ({', '.join(names)}):")
    click.echo(scores(model, model_inputs(model, rows), y))
