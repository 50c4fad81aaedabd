"""Take a run away: the estimator it trains, and the command and script that repeat it.

The playground trains :class:`~gradfit.MLPRegressor` with the parameters of
:func:`estimator_params`; ``gradfit fit`` on the training rows with the options of
:func:`command`, or the script of :func:`snippet`, trains the same estimator on the
same rows and so reaches the same numbers, epoch for epoch.
"""

from __future__ import annotations

import csv
import io
import shlex
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.playground.data import Problem
from gradfit.playground.protocol import Settings

FOREVER = 10**9
"""``max_iter`` and patience of a live run: it stops when the page says so."""
TRAIN_CSV, TEST_CSV, MODEL_FILE = "playground-train.csv", "playground-test.csv", "model.safetensors"


def estimator_params(settings: Settings, epochs: int = FOREVER) -> dict[str, Any]:
    """``MLPRegressor`` parameters of a run of ``epochs`` epochs with ``settings``.

    No early stopping (no held-out rows, ``tol=0`` and a patience as long as the
    run); the estimator's own defaults for everything the page does not set.
    """
    params: dict[str, Any] = {
        "hidden_layer_sizes": tuple(settings.hidden),
        "activation": settings.activation,
        "solver": "adam" if settings.optimizer == "adam" else "sgd",
        "learning_rate_init": settings.lr,
        "batch_size": settings.batch_size,
        "alpha": settings.l2,
        "loss": settings.loss,
        "backend": settings.backend,
        "max_iter": epochs,
        "early_stopping": False,
        "tol": 0.0,
        "n_iter_no_change": epochs,
        "random_state": settings.seed,
    }
    if settings.optimizer != "adam":
        params["momentum"] = 0.9 if settings.optimizer == "momentum" else 0.0
    return params


def command(settings: Settings, problem: Problem, epochs: int) -> str:
    """The ``gradfit fit`` command that trains this run's first ``epochs`` epochs."""
    p = estimator_params(settings, epochs)
    args = ["gradfit", "fit", TRAIN_CSV, "--target", problem.target]
    for name in problem.features:
        args += ["--features", name]
    for width in p["hidden_layer_sizes"] or (0,):
        args += ["--hidden", str(width)]
    args += ["--activation", p["activation"], "--solver", p["solver"]]
    if "momentum" in p:
        args += ["--momentum", repr(p["momentum"])]
    args += ["--lr", repr(p["learning_rate_init"]), "--epochs", str(epochs)]
    args += ["--batch-size", "full" if p["batch_size"] is None else str(p["batch_size"])]
    args += ["--alpha", repr(p["alpha"]), "--loss", p["loss"], "--backend", p["backend"]]
    args += ["--no-early-stopping", "--tol", "0", "--n-iter-no-change", str(epochs)]
    args += ["--seed", str(p["random_state"])]
    args += ["--out", MODEL_FILE]
    return " ".join(shlex.quote(a) for a in args)


def snippet(settings: Settings, problem: Problem, epochs: int) -> str:
    """A Python script that trains the same model and prints its losses and test scores."""
    p = estimator_params(settings, epochs)
    arguments = ",\n    ".join(f"{k}={v!r}" for k, v in p.items())
    features = list(problem.features)
    return f"""import pandas as pd
from sklearn.metrics import mean_squared_error, r2_score

from gradfit import MLPRegressor, save

train = pd.read_csv({TRAIN_CSV!r})
test = pd.read_csv({TEST_CSV!r})
features, target = {features!r}, {problem.target!r}

model = MLPRegressor(
    {arguments},
)
model.fit(train[features], train[target])
predicted = model.predict(test[features])
print(f"epochs {{model.n_iter_}}, final loss {{model.loss_curve_[-1]!r}}")
print(f"test RMSE {{mean_squared_error(test[target], predicted) ** 0.5:.6g}}, "
      f"R² {{r2_score(test[target], predicted):.6g}}")
save(model, {MODEL_FILE!r}, target_names=[target])
"""


def csv_bytes(problem: Problem, which: str) -> bytes:
    """The training or test rows as CSV; floats written with ``repr`` read back exactly."""
    train = which == "train"
    X, y = (problem.X_train, problem.y_train) if train else (problem.X_test, problem.y_test)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*problem.features, problem.target])
    writer.writerows(np.column_stack([X, y]).tolist())
    return out.getvalue().encode()


def model_bytes(model: Any, target: str) -> bytes:
    """The fitted estimator as a ``.safetensors`` model file, as ``gradfit fit`` writes it."""
    from gradfit.io.model import save

    with tempfile.TemporaryDirectory(prefix="gradfit-playground-") as folder:
        path = Path(folder) / MODEL_FILE
        save(model, path, target_names=[target])
        return path.read_bytes()
