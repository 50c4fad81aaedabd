"""``gradfit evaluate``: how well a saved model predicts the targets of a labelled file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from gradfit.cli.exits import EPILOG, CommandError, Exit
from gradfit.cli.outputs import is_classifier
from gradfit.cli.predict import has_spread, model_inputs, predictions, target_names
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
    balanced accuracy, log loss and the confusion matrix. A regressor with a spread (fit
    --ensemble K, or --loss gaussian_nll) also gets the Gaussian NLL per point (in the
    target's units), the coverage and mean width of its 90% interval, and the
    miscalibration area. DATA must hold the model's input columns and its target columns.
    """
    from gradfit.model_files import load

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
    Y = rows.floats(names, role="target")
    scores = score(Y, Y_hat, names)
    spread = uncertainty_scores(model, model_inputs(model, rows), Y) if has_spread(model) else []
    if as_json:
        result = {s.target: s.as_dict() for s in scores}
        for s, extra in zip(scores, spread, strict=False):
            result[s.target] |= extra
        click.echo(json.dumps(result))
    else:
        click.echo(table([(str(data), s) for s in scores]))
        if spread:
            click.echo(uncertainty_table(names, spread))


def uncertainty_scores(model: Any, inputs: Any, Y: Any) -> list[dict[str, float]]:
    """Per target: ``nll``, ``coverage_90``, ``width_90`` and ``miscalibration`` of the
    model's predictive distribution on ``(inputs, Y)``."""
    from gradfit.uncertainty import metrics

    mean, std = model.predict(inputs, return_std=True)
    mean, std = np.reshape(mean, Y.shape), np.reshape(std, Y.shape)
    out = []
    for j in range(Y.shape[1]):
        m = metrics(Y[:, j], mean[:, j], std[:, j], level=0.9)
        out.append({"nll": m["nll"], "coverage_90": m["coverage"], "width_90": m["width"],
                    "miscalibration": m["miscalibration"]})  # fmt: skip
    return out


def uncertainty_table(names: list[str], spread: list[dict[str, float]]) -> str:
    """Aligned lines ``target  NLL  90% coverage  90% width  miscal. area``."""
    cells = [("target", "NLL", "90% coverage", "90% width", "miscal. area")]
    cells += [
        (n, f"{s['nll']:.4g}", f"{s['coverage_90']:.3f}", f"{s['width_90']:.5g}",
         f"{s['miscalibration']:.3f}")
        for n, s in zip(names, spread, strict=True)
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in cells) for i in range(5)]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    )


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
