"""What ``gradfit fit`` writes and says besides the model: history, figures, summary."""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from gradfit.cli.paths import beside
from gradfit.engine.training import LOSS_LABELS
from gradfit.engine.types import Array
from gradfit.errors import MissingDependencyError, require
from gradfit.io.tabular import Table, write_csv

if TYPE_CHECKING:
    from gradfit.estimator import MLPRegressor


def frame(X: Array, features: tuple[str, ...]) -> Any:
    """``X: (n_samples, n_features)`` as a DataFrame with the column names ``features``."""
    import pandas as pd

    # A DataFrame gives the model its feature names, which predict checks against.
    return pd.DataFrame(X, columns=list(features))


@contextlib.contextmanager
def warnings_as_lines(options: dict[str, str]) -> Iterator[None]:
    """Show each warning raised inside as one line, ``gradfit: warning: …``.

    ``options`` maps the estimator's parameter names to the command's options, so that
    a warning says ``raise --epochs`` where the estimator says ``raise max_iter``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            yield
        finally:
            for w in caught:
                text = " ".join(str(w.message).split())
                for name, option in options.items():
                    # "loss" or "alpha" alone may be plain words; "max_iter" or "tol=" are not.
                    pattern = rf"\b{name}\b" if "_" in name else rf"\b{name}(?==)"
                    text = re.sub(pattern, option, text)
                click.echo(f"gradfit: warning: {text}", err=True)


def write_history(model: MLPRegressor, path: Path) -> Path:
    """The loss per epoch as CSV ``epoch, loss, val_loss`` (empty cells without validation)."""
    loss, val = model.loss_curve_, model.validation_loss_curve_
    rows = ([i + 1, v, val[i] if i < len(val) else None] for i, v in enumerate(loss))
    write_csv(path, ["epoch", "loss", "val_loss"], rows)
    return path


def plot(
    model: MLPRegressor,
    X: Array,
    Y: Array,
    features: tuple[str, ...],
    targets: tuple[str, ...],
    out_path: Path,
    write: Callable[[Path, Callable[[Path], object]], Path],
) -> list[Path]:
    """Draw NAME.loss.png and, with one feature, NAME.fit.png per target; return the paths.

    A model with a spread (an ensemble, or a Gaussian head) draws its 90% interval as
    a band around the fit. Each figure is drawn by ``write(path, draw)`` calling
    ``draw(file)`` (see :meth:`gradfit.io.atomic.Staging.write`). Without matplotlib,
    warn and draw nothing.
    """
    try:
        require("matplotlib", "plot")
    except MissingDependencyError as exc:
        click.echo(f"gradfit: warning: no figures written: {exc}", err=True)
        return []
    from gradfit import plotting

    title = "Loss per epoch" + (" (on standardised data)" if model.standardize else "")
    written = [
        write(
            beside(out_path, ".loss.png"), to_file(plotting.plot_loss, model.history_, title=title)
        )
    ]
    if len(features) == 1:
        grid = np.linspace(X[:, 0].min(), X[:, 0].max(), 400)
        inputs = frame(grid[:, None], features)
        fitted = np.asarray(model.predict(inputs)).reshape(grid.size, -1)
        band = None
        if model.n_members > 1 or model.loss == "gaussian_nll":
            band = [np.asarray(b).reshape(grid.size, -1) for b in model.predict_interval(inputs)]
        for j, target in enumerate(targets):
            suffix = ".fit.png" if len(targets) == 1 else f".fit-{target}.png"
            title, observed = f"Fitted {target} against {features[0]}", (X[:, 0], Y[:, j])
            labels = {"observed": observed, "title": title, "xlabel": features[0], "ylabel": target}
            if band is None:
                draw = to_file(plotting.plot_fit, grid, fitted[:, j], **labels)
            else:
                draw = to_file(
                    plotting.plot_band, grid, fitted[:, j], band[0][:, j], band[1][:, j], **labels
                )
            written.append(write(beside(out_path, suffix), draw))
    return written


def to_file(draw: Callable[..., object], *args: Any, **kwargs: Any) -> Callable[[Path], object]:
    """``draw(*args, **kwargs, path=file)`` as a function of ``file``."""
    return lambda file: draw(*args, path=file, **kwargs)


def listed(names: tuple[str, ...] | list[str], most: int = 5) -> str:
    """``a, b, c`` — or, for a wide file, ``a, b, c, d, e, … (999 columns)``."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])}, … ({len(names)} columns)"


def summary(
    model: MLPRegressor, table: Table, features: tuple[str, ...], targets: tuple[str, ...]
) -> str:
    """One line: epochs, rows, columns, and the last losses with what they measure."""
    history = model.history_
    label = LOSS_LABELS.get(history.loss_name, history.loss_name)
    if model.standardize:
        label += ", on standardised data"
    line = (
        f"trained {model.n_iter_} epochs on {table.n_rows} rows "
        f"({listed(features)} -> {listed(targets)}): "
        f"final loss {model.loss_curve_[-1]:.6g}"
    )
    if history.val_loss:
        line += f", validation loss {history.val_loss[-1]:.6g}"
    line += f" ({label})"
    if model.n_iter_ < model.max_iter:
        line += (
            f"; stopped before --epochs {model.max_iter}: the loss stopped falling by "
            f"--tol {model.tol:g} (patience {model.n_iter_no_change} epochs)"
        )
    return line
