"""Changes to the defaults, judged on the data sets and splits of ``realdata.py``.

    python benchmarks/realdata_tried.py [--variants a,b,…] [--sets a,b,…] [--splits N] [--paired]

Each variant is a change to the regressor's defaults, judged as ``realdata.py`` judges
them: the same data sets, the same random 80/20 splits (seeds 0, 1, …), the held-out R²
averaged over the splits. gradfit is fitted here as ``MLPRegressor(random_state=seed,
**params)`` on the training rows, which is what ``gradfit fit train.csv --target y --seed
seed`` builds and fits (with the defaults, the R² are those of ``realdata.py`` digit for
digit), so that a variant needs no option of the command line. The variants:

- ``defaults``: the defaults as they are; ``one``: one network (``n_members=1``), the
  defaults before k-fold bagging, which the variants below change;
- ``alpha=A``, ``batch=B``, ``lr=L``, ``patience=P``: one parameter changed;
- ``select-alpha``: ``alpha`` chosen per split from ``SELECT_GRID``, as ``RidgeCV`` chooses
  its penalty: one network per value, the same initial weights, held-out rows and batches,
  and the one with the lowest validation loss at its restored epoch is kept (below 150
  rows nothing is held out and the default ``alpha`` stays);
- ``plateau``: ReduceLROnPlateau on the validation loss (Keras's and ``torch.optim``'s rule):
  after ``PLATEAU_PATIENCE`` epochs without improvement the learning rate is halved, early
  stopping then ends the fit as before;
- ``average``: early stopping watches, and restores, an exponential moving average of the
  parameters (decay ``AVERAGE_DECAY``; Polyak averaging, as stochastic weight averaging
  does over the last epochs) rather than the parameters of one epoch.

The table gives each variant's mean R² per set, the suite's and the unseen sets' means,
and whether it meets issue 12's per-set targets (at least ``RidgeCV``'s and
scikit-learn's ``MLPRegressor``'s R², computed here on the same splits). With
``--paired`` it gives instead each variant's R² minus each baseline's, split by split
(mean ± standard error, and on how many splits the variant is ahead).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import warnings
from collections.abc import Callable
from typing import Any

import pandas as pd
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

import realdata
import realsets
from gradfit import MLPRegressor
from gradfit.engine.training import Trainer
from gradfit.estimator import _base
from gradfit.estimator._early_stopping import EarlyStopping

SELECT_GRID = (1e-4, 0.1, 1.0, 10.0)
PLATEAU_PATIENCE, PLATEAU_FACTOR = 20, 0.5
AVERAGE_DECAY = 0.9


class AveragedStopping(EarlyStopping):
    """Early stopping on the validation loss of a moving average of the parameters."""

    decay = AVERAGE_DECAY

    def __call__(self, trainer: Trainer) -> None:
        if self.monitor != "val_loss":
            super().__call__(trainer)
            return
        now = trainer.stepper.get_parameters()
        if not hasattr(self, "average"):
            self.average, self.seen = [p.copy() for p in now], 0
        self.seen += 1
        beta = min(self.decay, 1 - 1 / self.seen)  # a plain mean over the first epochs
        for a, p in zip(self.average, now, strict=True):
            a *= beta
            a += (1 - beta) * p
        trainer.stepper.set_parameters(self.average)
        trainer.history.val_loss[-1] = trainer.stepper.evaluate(*trainer.validation)
        super().__call__(trainer)  # keeps the average as the best parameters
        trainer.stepper.set_parameters(now)


def plateau(trainer: Trainer) -> None:
    """Halve the learning rate after ``PLATEAU_PATIENCE`` epochs without a new best."""
    curve = trainer.history.val_loss
    if len(curve) > PLATEAU_PATIENCE and min(curve[-PLATEAU_PATIENCE:]) > min(curve):
        last_drop = getattr(trainer, "last_drop", 0)
        if trainer.epoch - last_drop >= PLATEAU_PATIENCE:
            trainer.stepper.optimizer.lr *= PLATEAU_FACTOR  # type: ignore[attr-defined]
            trainer.last_drop = trainer.epoch  # type: ignore[attr-defined]


def fitted(params: dict[str, Any], X: Any, y: Any, seed: int, **fit: Any) -> MLPRegressor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter warnings are not what is measured here
        return MLPRegressor(random_state=seed, **params).fit(X, y, **fit)


def variant(name: str) -> Callable[[Any, Any, int], MLPRegressor]:
    """A function fitting the variant ``name`` on ``(X, y)`` for split ``seed``."""
    if name == "defaults":
        return lambda X, y, seed: fitted({}, X, y, seed)
    if name == "one":
        return lambda X, y, seed: fitted({"n_members": 1}, X, y, seed)
    if "=" in name:
        key, value = name.split("=")
        param = {"alpha": "alpha", "batch": "batch_size", "lr": "learning_rate_init",
                 "patience": "n_iter_no_change"}[key]  # fmt: skip
        number = int(value) if param in ("batch_size", "n_iter_no_change") else float(value)
        return lambda X, y, seed: fitted({param: number}, X, y, seed)
    if name == "select-alpha":
        return lambda X, y, seed: min(
            (fitted({"alpha": a}, X, y, seed) for a in SELECT_GRID), key=lambda m: m.best_loss_
        )
    if name == "plateau":
        return lambda X, y, seed: fitted({}, X, y, seed, callbacks=[plateau])
    if name == "average":

        def averaged(X: Any, y: Any, seed: int) -> MLPRegressor:
            _base.EarlyStopping = AveragedStopping  # type: ignore[misc]
            try:
                return fitted({}, X, y, seed)
            finally:
                _base.EarlyStopping = EarlyStopping  # type: ignore[misc]

        return averaged
    raise SystemExit(f"unknown variant {name!r}")


def split_runs(frame: pd.DataFrame, splits: int, fit: Callable[..., Any]) -> list[float]:
    """Held-out R² of ``fit`` on each of the splits of ``realdata.py``."""
    scores = []
    for seed in range(splits):
        train, test = train_test_split(frame, test_size=0.2, random_state=seed)
        model = fit(train.iloc[:, :-1].to_numpy(), train.iloc[:, -1].to_numpy(), seed)
        scores.append(r2_score(test.iloc[:, -1], model.predict(test.iloc[:, :-1].to_numpy())))
    return scores


def split_scores(frame: pd.DataFrame, splits: int, fit: Callable[..., Any]) -> float:
    """Mean held-out R² of ``fit`` over the splits of ``realdata.py``."""
    return statistics.fmean(split_runs(frame, splits, fit))


def baseline_runs(frame: pd.DataFrame, splits: int) -> dict[str, list[float]]:
    """RidgeCV's and scikit-learn's MLP's held-out R² per split, as ``realdata.py`` fits them."""
    out = {}
    for name in ("ridge", "sklearn-mlp"):
        runs = []
        for seed in range(splits):
            train, test = train_test_split(frame, test_size=0.2, random_state=seed)
            runs.append(realdata.run_baseline(realdata.baselines(seed)[name], train, test)["r2"])
        out[name] = runs
    return out


def baseline_scores(frame: pd.DataFrame, splits: int) -> dict[str, float]:
    """RidgeCV's and scikit-learn's MLP's mean held-out R², as ``realdata.py`` fits them."""
    return {name: statistics.fmean(runs) for name, runs in baseline_runs(frame, splits).items()}


def paired(ours: list[float], theirs: list[float]) -> str:
    """``+0.001 ± 0.005 (12 of 20)``: the mean of the paired differences, its standard
    error, and on how many splits ``ours`` is ahead."""
    d = [a - b for a, b in zip(ours, theirs, strict=True)]
    se = statistics.stdev(d) / len(d) ** 0.5 if len(d) > 1 else float("nan")
    return f"{statistics.fmean(d):+.4f} ± {se:.4f} ({sum(x > 0 for x in d)} of {len(d)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default="defaults,select-alpha,plateau,average")
    parser.add_argument("--sets", help="comma-separated keys; default: suite and unseen sets")
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--paired", action="store_true",
                        help="per set and variant, the paired R² differences against RidgeCV "
                        "and scikit-learn's MLP, split by split")  # fmt: skip
    args = parser.parse_args(argv)
    if args.paired:
        return print_paired(args)
    keys = list(realsets.ALL) if args.sets is None else args.sets.split(",")
    names = args.variants.split(",")
    frames = {k: realsets.ALL[k].load() for k in keys}
    suite = {s.key for s in realsets.SUITE}
    best = {k: max(baseline_scores(frames[k], args.splits).values()) for k in keys}
    print("| variant | " + " | ".join(keys) + " | mean, suite | mean, unseen | suite sets missed |")
    print("|---|" + "---|" * (len(keys) + 3))
    for name in names:
        fit = variant(name)
        r2 = {k: split_scores(frames[k], args.splits, fit) for k in keys}
        groups = ([r2[k] for k in keys if (k in suite) == s] for s in (True, False))
        means = [f"{statistics.fmean(v):.4f}" if v else "" for v in groups]
        missed = [k for k in keys if k in suite and r2[k] < best[k]]
        cells = [f"{r2[k]:.4f}" for k in keys]
        print(f"| {name} | " + " | ".join(cells) + f" | {' | '.join(means)} | "
              f"{', '.join(missed) or 'none'} |", flush=True)  # fmt: skip
    print("| best of RidgeCV and sklearn MLP | " + " | ".join(f"{best[k]:.4f}" for k in keys)
          + " | | | |")  # fmt: skip
    return 0


def print_paired(args: argparse.Namespace) -> int:
    """The ``--paired`` table: each variant minus each baseline, split by split."""
    keys = list(realsets.ALL) if args.sets is None else args.sets.split(",")
    print("| data set | variant | R² | minus RidgeCV | minus sklearn MLP |")
    print("|---|---|---|---|---|")
    for key in keys:
        frame = realsets.ALL[key].load()
        base = baseline_runs(frame, args.splits)
        for name in args.variants.split(","):
            runs = split_runs(frame, args.splits, variant(name))
            print(f"| {key} | {name} | {statistics.fmean(runs):.4f} | "
                  f"{paired(runs, base['ridge'])} | {paired(runs, base['sklearn-mlp'])} |",
                  flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
