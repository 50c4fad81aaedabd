"""Calibrations of the defaults' spread tried against the one the estimator keeps.

    python benchmarks/uncertainty_tried.py [--datasets boston,concrete] [--splits 20]
    python benchmarks/uncertainty_tried.py --suite [--sets cpus,auto-mpg] [--splits 5]

Each split fits gradfit's defaults once (``MLPRegressor(n_members=5, random_state=seed)``,
five mean-only members, each holding out a fold of its own), on the splits of
``uncertainty.py`` (the paper's 20 random 90/10 splits, or with ``--suite`` the suite's
random 80/20 ones), and then recalibrates the same members' spread in each of these ways,
all on the held-out rows (``σ²`` the members' spread, ``z`` the standardised inputs):

- ``out-of-bag``: ``a σ² + c``, each row's error from the member that held it out, its spread
  from all five (the estimator's calibration before December 2026); ``… less spread``: the
  same less the test row's spread (five members' error has less of it than one's);
  ``… log-variance``: ``log v = α + β log σ²``; ``… floor``: ``max(a σ², c)``;
  ``… + slopes``: ``(a σ² + c) exp(z·w)``;
- ``trained spread``: the error out-of-bag, the spread that of the four members that trained
  on the row, as they are;
- ``moved, all five``: the members that trained on the row moved as if unseen
  (:func:`gradfit.estimator._spread.as_if_unseen`), the error the moved ensemble's, the
  spread that of all five moved;
- ``moved``: the same with the spread of the moved members that trained on the row;
  ``moved + slopes``: and ``exp(z·w)`` — what the estimator does (its own NLL is printed
  beside, and must agree);
- ``other splits' test rows`` (the paper's splits only): ``a σ² + c`` fitted on the test rows
  of the other splits' fits, no held-out rows at all: what this shape can reach.

The table gives each set's mean NLL (in the target's units, with ``log 2π``) and the 90%
interval's coverage over the splits.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import uncertainty
from gradfit.engine.ensemble import mixture
from gradfit.estimator import MLPRegressor, _spread
from gradfit.uncertainty import fit_variance_calibration, metrics

Fit = dict[str, Any]
"""One split's fit: the members' means on the held-out rows ``M: (K, n, 1)`` and the test
rows ``T: (K, m, 1)``, targets ``Y, y_test`` and inputs ``Z, Z_test`` (standardised), who
held out each row ``unseen: (K, n)``, and the target's ``scale``."""


def fitted(X: np.ndarray, y: np.ndarray, X_test: np.ndarray, seed: int) -> Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPRegressor(n_members=5, random_state=seed).fit(X, y)
    held = est.validation_rows_
    rows = np.unique(held)
    mean, std = est.predict(X_test, return_std=True)
    return {
        "M": est._outputs(X[rows]).astype(np.float64), "T": est._outputs(X_test),
        "Y": est.y_scaler_.transform(y[rows, None]), "Z": est._inputs(X[rows]),
        "Z_test": est._inputs(X_test), "unseen": np.stack([np.isin(rows, h) for h in held]),
        "scale": float(est.y_scaler_.scale[0]), "center": float(est.y_scaler_.center[0]),
        "estimator": (mean, std),
    }  # fmt: skip


def _ac(Y: np.ndarray, mean: np.ndarray, var: np.ndarray, Z: np.ndarray | None = None) -> Any:
    return fit_variance_calibration(Y, mean, var, Z)[:, 0]


def _oob(f: Fit) -> tuple[np.ndarray, np.ndarray]:
    """Each held-out row's out-of-bag mean and the spread of all five there."""
    M, unseen = f["M"][..., 0], f["unseen"]
    return (M * unseen).sum(0) / unseen.sum(0), mixture(f["M"])[1][:, 0]


def _trained_spread(M: np.ndarray, unseen: np.ndarray) -> np.ndarray:
    """``(K-1)/K`` of the sample variance of the members that trained on each row."""
    K, trained = len(M), ~unseen
    centre = (M * trained).sum(0) / trained.sum(0)
    return (np.square(M - centre) * trained).sum(0) / (trained.sum(0) - 1) * (K - 1) / K


def _moved(f: Fit) -> np.ndarray:
    return _spread.as_if_unseen(f["M"], f["Y"], f["unseen"])[..., 0]


def out_of_bag(f: Fit, s2: np.ndarray) -> np.ndarray:
    a, c = _ac(f["Y"], _oob(f)[0][:, None], _oob(f)[1][:, None])
    return a * s2 + c


def less_spread(f: Fit, s2: np.ndarray) -> np.ndarray:
    return np.maximum(out_of_bag(f, s2) - s2, 1e-6)


def log_variance(f: Fit, s2: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize

    mean, var = _oob(f)
    r2, ls = np.square(f["Y"][:, 0] - mean), np.log(var)

    def nll(p: np.ndarray) -> float:
        return float(np.mean(0.5 * (p[0] + p[1] * ls) + 0.5 * r2 * np.exp(-p[0] - p[1] * ls)))

    p = minimize(nll, [np.log(r2.mean()), 0.0], method="L-BFGS-B").x
    return np.exp(p[0] + p[1] * np.log(s2))


def floor(f: Fit, s2: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize

    mean, var = _oob(f)
    r2 = np.square(f["Y"][:, 0] - mean)

    def nll(p: np.ndarray) -> float:
        v = np.maximum(np.exp(p[0]) * var, np.exp(p[1]))
        return float(np.mean(0.5 * np.log(v) + 0.5 * r2 / v))

    p = minimize(nll, [np.log(np.mean(r2 / var)), np.log(r2.mean() / 2)], method="Nelder-Mead").x
    return np.maximum(np.exp(p[0]) * s2, np.exp(p[1]))


def oob_slopes(f: Fit, s2: np.ndarray) -> np.ndarray:
    mean, var = _oob(f)
    p = fit_variance_calibration(f["Y"], mean[:, None], var[:, None], f["Z"])[:, 0]
    return (p[0] * s2 + p[1]) * np.exp(f["Z_test"] @ p[2:])


def trained_spread(f: Fit, s2: np.ndarray) -> np.ndarray:
    a, c = _ac(f["Y"], _oob(f)[0][:, None], _trained_spread(f["M"][..., 0], f["unseen"])[:, None])
    return a * s2 + c


def moved_all(f: Fit, s2: np.ndarray) -> np.ndarray:
    R = _moved(f)
    a, c = _ac(f["Y"], R.mean(0)[:, None], R.var(0)[:, None])
    return a * s2 + c


def moved(f: Fit, s2: np.ndarray, slopes: bool = False) -> np.ndarray:
    R = _moved(f)
    var = _trained_spread(R, f["unseen"])[:, None]
    p = fit_variance_calibration(f["Y"], R.mean(0)[:, None], var, f["Z"] if slopes else None)
    v = p[0, 0] * s2 + p[1, 0]
    return v * np.exp(f["Z_test"] @ p[2:, 0]) if slopes else v


VARIANTS: dict[str, Callable[[Fit, np.ndarray], np.ndarray]] = {
    "out-of-bag": out_of_bag, "… less spread": less_spread, "… log-variance": log_variance,
    "… floor": floor, "… + slopes": oob_slopes, "trained spread": trained_spread,
    "moved, all five": moved_all, "moved": moved,
    "moved + slopes": lambda f, s2: moved(f, s2, slopes=True),
}  # fmt: skip


def scores(f: Fit, y_test: np.ndarray, var: np.ndarray, mean: np.ndarray) -> dict[str, float]:
    return metrics(y_test, mean * f["scale"] + f["center"], np.sqrt(var) * f["scale"])


def run(name: str, fits: list[tuple[Fit, np.ndarray]], pooled: bool) -> list[str]:
    rows: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    rows["estimator"], rows["other splits' test rows"] = [], []
    for i, (f, y_test) in enumerate(fits):
        mean, s2 = (m[:, 0] for m in mixture(f["T"]))
        for v, calibrate in VARIANTS.items():
            rows[v].append(scores(f, y_test, calibrate(f, s2), mean))
        rows["estimator"].append(metrics(y_test, *f["estimator"]))
        if pooled:  # a σ² + c on the other splits' test rows, standardised by each fit
            others = [(g, yt) for j, (g, yt) in enumerate(fits) if j != i]
            Y = np.concatenate([(yt - g["center"]) / g["scale"] for g, yt in others])
            m = np.concatenate([mixture(g["T"])[0][:, 0] for g, _ in others])
            v = np.concatenate([mixture(g["T"])[1][:, 0] for g, _ in others])
            a, c = _ac(Y[:, None], m[:, None], v[:, None])
            rows["other splits' test rows"].append(scores(f, y_test, a * s2 + c, mean))
    lines = [f"{name} ({len(fits)} splits): mean over the splits"]
    lines += ["| calibration | NLL | 90% cov. |", "|---|---|---|"]
    for v, found in rows.items():
        if found:
            nll, cov = (np.mean([r[k] for r in found]) for k in ("nll", "coverage"))
            lines.append(f"| {v} | {nll:.3f} | {cov:.3f} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default=",".join(uncertainty.DATASETS))
    parser.add_argument("--suite", action="store_true", help="the suite's 80/20 splits")
    parser.add_argument("--sets", help="with --suite: the data sets (default: all held out)")
    parser.add_argument("--splits", type=int, help="default: 20, or 5 with --suite")
    args = parser.parse_args(argv)
    if args.suite:
        from sklearn.model_selection import train_test_split

        import realsets

        keys = args.sets.split(",") if args.sets else [k for k in realsets.ALL if k != "mcycle"]
        for key in keys:
            frame, fits = realsets.ALL[key].load(), []
            for seed in range(args.splits or 5):
                train, test = train_test_split(frame, test_size=0.2, random_state=seed)
                X, y = (train.iloc[:, :-1].to_numpy(np.float64),
                        train.iloc[:, -1].to_numpy(np.float64))  # fmt: skip
                X_test = test.iloc[:, :-1].to_numpy(np.float64)
                y_test = test.iloc[:, -1].to_numpy(np.float64)
                fits.append((fitted(X, y, X_test, seed), y_test))
            print("\n".join(run(key, fits, pooled=False)), end="\n\n")
        return
    for name in args.datasets.split(","):
        X, y = uncertainty.load(name)
        pairs = uncertainty.splits(len(y), args.splits or 20)
        fits = [(fitted(X[tr], y[tr], X[te], i), y[te]) for i, (tr, te) in enumerate(pairs)]
        print("\n".join(run(name, fits, pooled=True)), end="\n\n")


if __name__ == "__main__":
    main()
