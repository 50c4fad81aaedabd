"""``gradfit evaluate``: how well a saved model predicts the targets of a labelled file.

The file is read and scored a chunk of rows at a time (``--chunk-rows``), keeping sums
and counts only (:class:`~gradfit.cli.scores.Scorer`, :mod:`gradfit.cli.running_scores`),
so memory is bounded by a chunk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from gradfit.cli.exits import EPILOG, CommandError, Exit
from gradfit.cli.options import chunk_rows_option, unseen_categories_option
from gradfit.cli.outputs import is_classifier, noted
from gradfit.cli.paths import InputFile
from gradfit.cli.predict import (
    feature_names,
    has_spread,
    model_inputs,
    predictions,
    target_names,
)
from gradfit.cli.running_scores import ClassifierSums, SpreadSums, as_labels
from gradfit.cli.scores import Scorer, table
from gradfit.io.categories import input_columns
from gradfit.io.table import LEAVE_OUT
from gradfit.io.tabular import read_chunks


@click.command(epilog=EPILOG)
@click.argument("model_path", metavar="MODEL", type=InputFile("model", Exit.BAD_MODEL))
@click.argument("data", type=InputFile("data", Exit.BAD_DATA))
@click.option(
    "--target",
    "targets",
    multiple=True,
    help="Column holding each output's true values, in order (repeatable); "
    "default: the target names the model was trained with.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the scores as one JSON object (null for a score that is no finite number).",
)
@unseen_categories_option()
@chunk_rows_option("read and scored")
def evaluate(
    model_path: Path,
    data: Path,
    targets: tuple[str, ...],
    as_json: bool,
    unseen_categories: str,
    chunk_rows: int | None,
) -> None:
    """Score MODEL (written by `gradfit fit`) on the labelled rows of DATA.

    Prints R² (1 - residual sum of squares / total sum of squares), RMSE and MAE, the
    last two in the target's own units, for every target; for a classifier, accuracy,
    balanced accuracy, log loss and the confusion matrix. A regressor with a spread (fit
    --ensemble K, or --loss gaussian_nll) also gets the Gaussian NLL per point (in the
    target's units), the coverage and mean width of its 90% interval, and the
    miscalibration area. DATA must hold the model's input columns and its target columns
    (a .npy file's columns are named by their index: 0, 1, …).
    """
    from gradfit.model_files import load

    model = load(model_path)
    _check_not_inputs(model, model_path, targets)
    chunks = noted(read_chunks(data, chunk_rows, purpose="evaluate a model"))
    if is_classifier(model):
        _evaluate_classifier(model, model_path, data, chunks, targets, as_json, unseen_categories)
        return
    n_outputs = int(getattr(model, "n_outputs_", None) or model.sizes[-1])
    names = list(targets) or target_names(model, n_outputs)
    if len(names) != n_outputs:
        raise CommandError(
            f"{model_path} predicts {n_outputs} output(s); give one --target per output "
            f"(got {len(names)})",
            Exit.USAGE,
        )
    if not targets and not getattr(model, "target_names_", None):
        raise CommandError(
            f"{model_path} does not name its target(s); say which column(s) of {data} hold "
            "the true values with --target",
            Exit.USAGE,
        )
    sums, spread = Scorer(), SpreadSums() if has_spread(model) else None
    for rows in chunks:
        # Counted over the file, not the chunk, when one misses a cell.
        rows.require(names, role="target")
        rows.check_missing(names, rest=chunks, advice=LEAVE_OUT)
        inputs = model_inputs(model, rows, unseen=unseen_categories, rest=chunks)
        Y = rows.floats(names, role="target")
        sums.add(Y, predictions(model, inputs, rows, model_path))
        if spread is not None:
            mean, std = model.predict(inputs, return_std=True)
            spread.add(Y, np.reshape(mean, Y.shape), np.reshape(std, Y.shape))
    scores = sums.scores(names)
    extras = spread.scores() if spread is not None else []
    if as_json:
        result = {s.target: s.as_dict() for s in scores}
        for s, extra in zip(scores, extras, strict=False):
            result[s.target] |= extra
        click.echo(as_json_text(result))
    else:
        click.echo(table([(str(data), s) for s in scores]))
        if extras:
            click.echo(uncertainty_table(names, extras))


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


def _check_not_inputs(model: Any, model_path: Path, targets: tuple[str, ...]) -> None:
    """Refuse a ``--target`` that is one of the model's input columns: the model reads
    it, so it cannot hold the true values too (scored, it gave an R² of -1e7 under the
    input's name)."""
    inputs = input_columns(feature_names(model), getattr(model, "categories_", None) or {})
    both = [t for t in targets if t in inputs]
    if both:
        own = [str(t) for t in getattr(model, "target_names_", None) or ()]
        hint = f"; {model_path} predicts {', '.join(map(repr, own))}" if own else ""
        raise CommandError(
            f"--target {', '.join(map(repr, both))} is an input column of {model_path}, "
            f"not the values it predicts{hint}: give the column that holds those (or leave "
            "--target out)",
            Exit.USAGE,
        )


def _evaluate_classifier(
    model: Any,
    model_path: Path,
    data: Path,
    chunks: Any,
    targets: tuple[str, ...],
    as_json: bool,
    unseen: str,
) -> None:
    """Print the classifier's scores on the rows of ``chunks`` (labels in ``targets``,
    or its own)."""
    from gradfit.cli.task import decide

    names = targets or tuple(getattr(model, "target_names_", None) or ())
    if not names:
        raise CommandError(
            f"{model_path} does not name its target; say which column of {data} holds "
            "the labels with --target",
            Exit.USAGE,
        )
    sums = ClassifierSums(model.classes_)
    own_labels = f"{model_path} is a classifier: score it on its label column(s) (--target)"
    for rows in chunks:
        rows.require(names, role="target")
        rows.check_missing(names, rest=chunks, advice=LEAVE_OUT)  # over the file, not the chunk
        y = decide(rows, names, "classification", otherwise=own_labels).y
        assert y is not None
        X = model_inputs(model, rows, unseen=unseen, rest=chunks)
        labels = as_labels(y, model.classes_, f"{data} column {', '.join(map(repr, names))}")
        sums.add(labels, np.asarray(model.predict(X)), model.predict_proba(X))
    if as_json:
        # As a regressor's: keyed by the target (a multilabel model's columns, joined).
        click.echo(as_json_text({", ".join(names): sums.scores()}))
        return
    click.echo(f"{model_path} on {data} ({', '.join(names)}):")
    click.echo(sums.lines())


def as_json_text(scores: dict[str, Any]) -> str:
    """``scores`` as one line of JSON that any parser reads: a score that is not a finite
    number (R² of a constant target, an RMSE that overflows float64) is ``null``, where
    Python's json would write ``NaN`` or ``Infinity``, which JSON does not have."""

    def finite(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: finite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [finite(v) for v in value]
        if isinstance(value, float) and not np.isfinite(value):
            return None
        return value

    return json.dumps(finite(scores), allow_nan=False)
