"""``gradfit fit``'s argument and options, with their help texts.

The estimator they describe is built by :func:`gradfit.cli.fit_estimator.estimator`; an
option not given is not passed, so the estimator's own default applies
(:mod:`gradfit.defaults`, which the help texts quote).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from gradfit.cli.exits import Exit
from gradfit.cli.options import (
    EPOCHS,
    FRACTION,
    MAX_PROCESSES,
    NON_NEGATIVE,
    POSITIVE,
    SEED,
    BatchSize,
    Finite,
    count,
)
from gradfit.cli.paths import InputFile, OutputFile
from gradfit.cli.task import TASKS
from gradfit.defaults import (
    AUTO_BATCH,
    AUTO_MEMBERS,
    BACKENDS,
    CLASSIFIER_DEFAULTS,
    DEFAULTS,
    HOLD_OUT,
    MAX_MEMBERS,
    MAX_UNITS,
    MIN_VALIDATION_ROWS,
    PRECISIONS,
)
from gradfit.engine.activations import ACTIVATIONS
from gradfit.engine.losses import REGRESSION_LOSSES
from gradfit.engine.optim import OPTIMIZERS
from gradfit.engine.types import DTYPES


def default(field: str, say: Callable[[Any], str] = str) -> str:
    """``default: X`` for the estimator parameter ``field``, as :mod:`gradfit.defaults`
    has it, with the classifier's beside it where that differs (``; Y for labels``)."""
    regressor, classifier = getattr(DEFAULTS, field), getattr(CLASSIFIER_DEFAULTS, field)
    said = f"default: {say(regressor)}"
    return said if classifier == regressor else f"{said}; {say(classifier)} for labels"


def _stopping(setting: bool | str) -> str:
    if setting == "auto":
        return f"on from {MIN_VALIDATION_ROWS / HOLD_OUT:.0f} rows, off below"
    return "on" if setting else "off"


OPTIONS: list[Callable[[Any], Any]] = [
    click.argument("data", type=InputFile("data", Exit.BAD_DATA)),
    click.option(
        "--target", "targets", multiple=True, required=True, help="Column to predict (repeatable)."
    ),
    click.option(
        "--features",
        "features",
        multiple=True,
        help="Input column (repeatable); default: every column that is not a target.",
    ),
    click.option(
        "--out",
        "out_path",
        type=OutputFile("model"),
        required=True,
        help="The model file to write (.safetensors); its history CSV and figures go beside it.",
    ),
    click.option(
        "--hidden",
        type=count(0, MAX_UNITS),
        multiple=True,
        help="Units of a hidden layer; repeat for depth: --hidden 64 --hidden 64 "
        f"({default('hidden_layer_sizes', lambda sizes: ' '.join(map(str, sizes)))}); "
        "--hidden 0 alone: no hidden layer (a linear model).",
    ),
    click.option(
        "--activation",
        type=click.Choice(sorted(ACTIVATIONS)),
        help=f"Hidden activation ({default('activation')}).",
    ),
    click.option(
        "--solver",
        type=click.Choice(list(OPTIMIZERS)),
        help=f"Optimizer ({default('solver')}).",
    ),
    click.option(
        "--momentum",
        type=Finite(min=0, max=1),
        help=f"SGD's momentum, Nesterov when above 0 ({default('momentum')}); with --solver sgd.",
    ),
    click.option(
        "--lr",
        type=POSITIVE,
        help=f"Learning rate ({default('learning_rate_init', '{:g}'.format)}).",
    ),
    click.option(
        "--epochs",
        type=EPOCHS,
        help=f"Most epochs (max_iter; {default('max_iter')}).",
    ),
    click.option(
        "--batch-size",
        type=BatchSize(),
        metavar="N|auto|full",
        help=f"Rows per update: an integer, 'auto' (min({AUTO_BATCH}, rows)) or 'full' "
        f"(full-batch gradient descent); {default('batch_size')}.",
    ),
    click.option(
        "--alpha", type=NON_NEGATIVE, help=f"L2 penalty ({default('alpha', '{:g}'.format)})."
    ),
    click.option(
        "--loss",
        type=click.Choice(REGRESSION_LOSSES),
        help="mse (mean) or sse (sum) of squared errors, or gaussian_nll: a mean and a "
        "variance per target, so that predict --interval has a spread.",
    ),
    click.option(
        "--ensemble",
        type=count(1, MAX_MEMBERS),
        metavar="K",
        help="Train a deep ensemble of K networks from different random starts, together, each "
        "holding out a fold of its own when a validation split is held out (default: "
        f"{AUTO_MEMBERS} then, on tables that are not large, else 1; "
        f"{CLASSIFIER_DEFAULTS.n_members} for labels): a regressor's predict --interval then "
        "uses their spread, and a classifier predicts their mean probability.",
    ),
    click.option("--backend", type=click.Choice(BACKENDS), help="Engine to train on."),
    click.option("--device", help="torch device, e.g. cpu or cuda (torch backend only)."),
    click.option("--dtype", type=click.Choice(list(DTYPES)), help="Floating-point type."),
    click.option(
        "--precision",
        type=click.Choice(PRECISIONS),
        help="bf16-mixed: products in bfloat16, weights and loss float32 (--backend torch "
        "--dtype float32).",
    ),
    click.option(
        "--seed", type=SEED, default=0, show_default=True, help="Seed of every random source."
    ),
    click.option(
        "--early-stopping/--no-early-stopping",
        default=None,
        help="Hold out a validation split, stop when its loss stops improving and keep the best "
        f"epoch; {default('early_stopping', _stopping)}.",
    ),
    click.option(
        "--validation-fraction",
        type=FRACTION,
        help=f"Share of rows held out for the validation loss (default: {HOLD_OUT:g} when "
        "stopping early, else none).",
    ),
    click.option(
        "--checkpoint",
        "checkpoint_path",
        type=OutputFile("checkpoint"),
        help="Checkpoint file; default: NAME.checkpoint.safetensors beside the model.",
    ),
    click.option(
        "--checkpoint-every",
        type=EPOCHS,
        metavar="N",
        help="Save the checkpoint every N epochs (it is always saved on Ctrl-C).",
    ),
    click.option(
        "--resume",
        is_flag=True,
        help="Continue the run saved in the checkpoint (same data and options; --epochs may grow).",
    ),
    click.option(
        "--tol",
        type=NON_NEGATIVE,
        help="Stop when the loss has not fallen by this much for --n-iter-no-change epochs "
        f"({default('tol', '{:g}'.format)}).",
    ),
    click.option(
        "--n-iter-no-change",
        type=EPOCHS,
        help=f"Patience, in epochs ({default('n_iter_no_change')}).",
    ),
    click.option(
        "--drop-missing",
        is_flag=True,
        help="Leave out the rows with an empty or NaN cell in a column used (and say how many).",
    ),
    click.option("--plots/--no-plots", default=True, show_default=True, help="Write the figures."),
    click.option(
        "--task",
        type=click.Choice(TASKS),
        help="Classify labels or regress numbers; default: decided from the target column "
        "(text, or integers with few distinct values, are labels).",
    ),
    click.option(
        "--distributed",
        is_flag=True,
        help="Data-parallel over the processes torchrun starts (with --backend torch); "
        ".npy and Parquet are read in chunks, never whole (the loss figure alone is drawn).",
    ),
    click.option(
        "--nproc-per-node",
        type=count(1, MAX_PROCESSES),
        help="Start N processes on this machine (at most one per CPU) and train "
        "--distributed across them (instead of torchrun: one line and the documented exit "
        "code when a rank fails).",
    ),
]
"""``fit``'s argument and options, in the order ``--help`` lists them."""


def fit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with :data:`OPTIONS`, as if each were written above it as a decorator."""
    for option in reversed(OPTIONS):
        command = option(command)
    return command
