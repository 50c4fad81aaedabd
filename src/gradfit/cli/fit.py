"""``gradfit fit``: train an MLPRegressor on a CSV or Parquet file and write the model."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from gradfit.cli.exits import EPILOG, CommandError, Exit
from gradfit.cli.paths import beside, check_output
from gradfit.cli.progress import EpochBar
from gradfit.engine.activations import ACTIVATIONS
from gradfit.engine.losses import LOSSES
from gradfit.engine.types import Array
from gradfit.errors import DivergenceError, MissingDependencyError
from gradfit.io.tabular import Table, read_table, write_csv

if TYPE_CHECKING:
    from gradfit.estimator import MLPRegressor


def _batch_size(ctx: click.Context, param: click.Parameter, value: str | None) -> int | str | None:
    if value is None or value == "auto":
        return value
    if value == "full":
        return "full"
    try:
        size = int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r}: give a positive integer, 'auto' or 'full'") from None
    if size < 1:
        raise click.BadParameter(f"{value!r}: the batch size must be at least 1")
    return size


# Each option maps to the MLPRegressor parameter of the same meaning; an option not
# given is not passed, so the estimator's own default applies.
ESTIMATOR_OPTIONS = {
    "hidden": "hidden_layer_sizes",
    "activation": "activation",
    "solver": "solver",
    "lr": "learning_rate_init",
    "epochs": "max_iter",
    "batch_size": "batch_size",
    "alpha": "alpha",
    "backend": "backend",
    "device": "device",
    "dtype": "dtype",
    "seed": "random_state",
    "early_stopping": "early_stopping",
    "validation_fraction": "validation_fraction",
    "loss": "loss",
}


@click.command(epilog=EPILOG)
@click.argument("data", type=click.Path(dir_okay=True, path_type=Path))
@click.option(
    "--target", "targets", multiple=True, required=True, help="Column to predict (repeatable)."
)
@click.option(
    "--features",
    "features",
    multiple=True,
    help="Input column (repeatable); default: every column that is not a target.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    required=True,
    help="The model file to write (.safetensors); its history CSV and figures go beside it.",
)
@click.option(
    "--hidden",
    type=click.IntRange(min=1),
    multiple=True,
    help="Units of a hidden layer; repeat for depth: --hidden 64 --hidden 64.",
)
@click.option("--activation", type=click.Choice(sorted(ACTIVATIONS)), help="Hidden activation.")
@click.option("--solver", type=click.Choice(["sgd", "adam"]), help="Optimizer.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), help="Learning rate.")
@click.option("--epochs", type=click.IntRange(min=1), help="Number of epochs (max_iter).")
@click.option(
    "--batch-size",
    callback=_batch_size,
    metavar="N|auto|full",
    help="Rows per update: an integer, 'auto' or 'full' (full-batch gradient descent).",
)
@click.option("--alpha", type=click.FloatRange(min=0), help="L2 penalty.")
@click.option("--loss", type=click.Choice(sorted(LOSSES)), help="mse (mean) or sse (sum).")
@click.option("--backend", type=click.Choice(["numpy", "torch"]), help="Engine to train on.")
@click.option("--device", help="torch device, e.g. cpu or cuda (torch backend only).")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), help="Floating-point type.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random source.")
@click.option(
    "--early-stopping/--no-early-stopping",
    default=None,
    help="Stop when the validation loss stops improving.",
)
@click.option(
    "--validation-fraction",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    help="Share of rows held out for the validation loss.",
)
@click.option("--plots/--no-plots", default=True, show_default=True, help="Write the figures.")
def fit(
    data: Path,
    targets: tuple[str, ...],
    features: tuple[str, ...],
    out_path: Path,
    plots: bool,
    **options: Any,
) -> None:
    """Train a network on DATA (CSV, or Parquet by suffix) and write the model to --out.

    Beside the model it writes NAME.history.csv (epoch, loss, val_loss) and, with
    matplotlib, NAME.loss.png and, for one input column, NAME.fit.png.
    """
    check_output(out_path, what="model")
    table = read_table(data, min_rows=2, purpose="fit a model")
    features = _feature_columns(table, targets, features)
    X = table.floats(features, role="feature")
    Y = table.floats(targets, role="target")

    model = _estimator(options)
    y = Y[:, 0] if len(targets) == 1 else Y
    with EpochBar(model.max_iter) as bar, _warnings_as_lines():
        try:
            model.fit(_frame(X, features), y, callbacks=[bar])
        except DivergenceError as exc:
            raise _diverged(model, exc, out_path, targets) from None

    _save(model, out_path, targets)
    written = [out_path, _write_history(model, beside(out_path, ".history.csv"))]
    if plots:
        written += _plot(model, X, Y, features, targets, out_path)
    click.echo(_summary(model, table, features, targets))
    click.echo("wrote " + ", ".join(str(p) for p in written))


def _feature_columns(
    table: Table, targets: tuple[str, ...], features: tuple[str, ...]
) -> tuple[str, ...]:
    table.require(targets, role="target")
    if features:
        both = sorted(set(features) & set(targets))
        if both:
            raise CommandError(
                f"column(s) {', '.join(map(repr, both))} given as both feature and target",
                Exit.USAGE,
            )
        return features
    rest = tuple(c for c in table.columns if c not in targets)
    if not rest:
        raise CommandError(f"{table.path}: no columns are left as features", Exit.BAD_DATA)
    return rest


def _estimator(options: dict[str, Any]) -> MLPRegressor:
    from gradfit.estimator import MLPRegressor

    if options["device"] is not None and options["backend"] != "torch":
        raise CommandError("--device needs --backend torch (numpy runs on the CPU)", Exit.USAGE)
    params = {ESTIMATOR_OPTIONS[k]: v for k, v in options.items() if v not in (None, ())}
    if "hidden_layer_sizes" in params:
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    if params.get("batch_size") == "full":
        params["batch_size"] = None
    return MLPRegressor(**params)


def _frame(X: Array, features: tuple[str, ...]) -> Any:
    import pandas as pd

    # A DataFrame gives the model its feature names, which predict checks against.
    return pd.DataFrame(X, columns=list(features))


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Show each warning raised inside as one line, ``gradfit: warning: …``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            yield
        finally:
            for w in caught:
                click.echo(f"gradfit: warning: {' '.join(str(w.message).split())}", err=True)


def _save(model: MLPRegressor, path: Path, targets: tuple[str, ...]) -> None:
    from gradfit.io.model import save

    save(model, path, target_names=list(targets))


def _diverged(
    model: MLPRegressor, exc: DivergenceError, out_path: Path, targets: tuple[str, ...]
) -> CommandError:
    message = " ".join(str(exc).split())
    if not hasattr(model, "net_") or not model.loss_curve_:
        return CommandError(f"{message} No model was written.", Exit.DIVERGED)
    path = beside(out_path, ".diverged" + out_path.suffix)
    _save(model, path, targets)
    return CommandError(
        f"{message} The last finite model was written to '{path}'; '{out_path}' is untouched.",
        Exit.DIVERGED,
    )


def _write_history(model: MLPRegressor, path: Path) -> Path:
    loss = list(model.loss_curve_)
    val = list(getattr(model, "validation_loss_curve_", None) or [])
    rows = ([i + 1, v, val[i] if i < len(val) else None] for i, v in enumerate(loss))
    write_csv(path, ["epoch", "loss", "val_loss"], rows)
    return path


def _plot(
    model: MLPRegressor,
    X: Array,
    Y: Array,
    features: tuple[str, ...],
    targets: tuple[str, ...],
    out_path: Path,
) -> list[Path]:
    try:
        from gradfit.errors import require

        require("matplotlib", "plot")
    except MissingDependencyError as exc:
        click.echo(f"gradfit: warning: no figures written: {exc}", err=True)
        return []
    from gradfit import plotting

    written = [beside(out_path, ".loss.png")]
    plotting.plot_loss(model.history_, title="Loss per epoch", path=written[0])
    if len(features) == 1:
        grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 400)
        fitted = np.asarray(model.predict(_frame(grid[:, None], features))).reshape(grid.size, -1)
        for j, target in enumerate(targets):
            suffix = ".fit.png" if len(targets) == 1 else f".fit-{target}.png"
            path = beside(out_path, suffix)
            plotting.plot_fit(
                grid,
                fitted[:, j],
                observed=(X[:, 0], Y[:, j]),
                title=f"Fitted {target} against {features[0]}",
                xlabel=features[0],
                ylabel=target,
                path=path,
            )
            written.append(path)
    return written


def _summary(
    model: MLPRegressor, table: Table, features: tuple[str, ...], targets: tuple[str, ...]
) -> str:
    from gradfit.engine.training import LOSS_LABELS

    history = model.history_
    label = LOSS_LABELS.get(history.loss_name, history.loss_name)
    line = (
        f"trained {len(model.loss_curve_)} epochs on {table.n_rows} rows "
        f"({', '.join(features)} -> {', '.join(targets)}): "
        f"final loss {model.loss_curve_[-1]:.6g} ({label})"
    )
    if history.val_loss:
        line += f", validation loss {history.val_loss[-1]:.6g}"
    return line
