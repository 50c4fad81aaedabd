"""What was tried to close the classifier's gaps in ``classification.py``, and what was kept.

    python benchmarks/classification_tried.py [--variants a,b,…] [--datasets …] [--splits N]

The gaps (issue 16's targets missed): where scikit-learn's ``MLPClassifier`` or
``LogisticRegression`` is the more accurate (the README's tables). Each variant is a change to
``MLPClassifier``'s defaults, judged as ``classification.py`` judges them: the same data
sets and stratified 80/20 splits (seeds 0, 1, …), the held-out accuracy averaged over the
splits, against scikit-learn's MLP and ``LogisticRegression`` fitted on the same splits
(the ``defaults`` row is ``classification.py``'s gradfit column digit for digit). Variants:

- ``defaults``: the defaults as they are;
- ``clip``: ``clip_inputs=True``, the regressor's, which the classifier had until it
  misjudged a crab (see :data:`gradfit.defaults.CLASSIFIER_DEFAULTS`);
- ``glorot``: Glorot and Bengio's initialisation, scikit-learn's: ``W, b ~ U(±√(6 /
  (n_in + n_out)))`` for every layer instead of PyTorch's ``U(±1/√n_in)``;
- ``tanh`` (the classifier's units until 2026-12-03), ``tanh+glorot``, ``sigmoid``: the
  hidden activation, and with it the initialisation (``glorot`` with the default relu is
  scikit-learn's MLP but for the stopping rule);
- ``stop``: ``early_stopping=True``, on a stratified held-out fifth; ``stop+p50`` the same
  with a patience of 50 epochs (``n_iter_no_change=50``);
- ``epochs=E``: ``max_iter=E``;
- ``alpha=A``, ``batch=B``, ``lr=L``, ``patience=P``, ``tol=T``, ``hidden=N`` or
  ``hidden=NxN`` (two layers): one parameter changed;
- ``members=K``: a deep ensemble (``n_members=K``, the members' mean probability);
- ``bag=K``: K networks each on a bootstrap sample of the rows (Breiman's bagging), their
  mean probability;
- ``average``: the predictions of an exponential moving average of the parameters over the
  epochs (decay ``AVERAGE_DECAY``; Polyak averaging, as stochastic weight averaging does);
- ``refit``: early stopping on a held-out fifth picks the number of epochs, then a network
  trains on every row for that many (patience ``REFIT_PATIENCE``);
- ``quantile``: inputs mapped to normal scores by ``QuantileTransformer`` (as Gorishniy et
  al. 2021 preprocess for their MLPs) before the standardisation inside.

The table gives each variant's mean accuracy per set and the targets it misses (``≥
sklearn MLP`` and ``≥ logistic`` on each set).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import QuantileTransformer

import classification
from gradfit import MLPClassifier
from gradfit.engine.training import Trainer
from gradfit.estimator._params import Settings

AVERAGE_DECAY = 0.9
REFIT_PATIENCE = 50


class GlorotClassifier(MLPClassifier):
    """``MLPClassifier`` whose layers start at ``W, b ~ U(±√(6 / (n_in + n_out)))``."""

    def _new_network(self, s: Settings) -> Any:
        net = super()._new_network(s)
        params = net.parameters()
        for W, b in zip(params[0::2], params[1::2], strict=True):
            n_out, n_in = W.shape[-2:]
            # PyTorch's draw is U(±1/√n_in): scaled, it is Glorot's.
            scale = np.sqrt(6 / (n_in + n_out)) * np.sqrt(n_in)
            W *= scale
            b *= scale
        return net


class Mean:
    """The mean probability of fitted classifiers (one label set)."""

    def __init__(self, members: list[Any]) -> None:
        self.members = members

    def predict_proba(self, X: Any) -> Any:
        return np.mean([m.predict_proba(X) for m in self.members], axis=0)

    def predict(self, X: Any) -> Any:
        return self.members[0].classes_[self.predict_proba(X).argmax(axis=1)]


def fitted(params: dict[str, Any], X: Any, y: Any, seed: int, **fit: Any) -> MLPClassifier:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter warnings are not what is measured here
        glorot = params.pop("glorot", False)
        model = (GlorotClassifier if glorot else MLPClassifier)(random_state=seed, **params)
        return model.fit(X, y, **fit)


def averaged(X: Any, y: Any, seed: int) -> MLPClassifier:
    """The defaults, predicting with the moving average of the parameters."""
    average: list[Any] = []

    def keep(trainer: Trainer) -> None:
        now = trainer.stepper.get_parameters()
        if not average:
            average.extend(p.copy() for p in now)
        for a, p in zip(average, now, strict=True):
            a *= AVERAGE_DECAY
            a += (1 - AVERAGE_DECAY) * p

    model = fitted({}, X, y, seed, callbacks=[keep])
    for p, a in zip(model.net_.parameters(), average, strict=True):
        p[...] = a
    return model


def bagged(k: int) -> Callable[[Any, Any, int], Mean]:
    def fit(X: Any, y: Any, seed: int) -> Mean:
        rng, members = np.random.default_rng(seed), []
        for member in range(k):
            rows = rng.integers(0, len(y), len(y))
            while np.unique(y[rows]).size < np.unique(y).size:  # every class in each sample
                rows = rng.integers(0, len(y), len(y))
            members.append(fitted({}, X[rows], y[rows], 1000 * seed + member))
        return Mean(members)

    return fit


def refitted(X: Any, y: Any, seed: int) -> MLPClassifier:
    first = fitted({"early_stopping": True, "n_iter_no_change": REFIT_PATIENCE}, X, y, seed)
    return fitted({"max_iter": max(1, first.best_epoch_), "tol": 0.0}, X, y, seed)


def quantiled(X: Any, y: Any, seed: int) -> Any:
    quantiles = QuantileTransformer(
        n_quantiles=min(1000, len(y)), output_distribution="normal", random_state=seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_pipeline(quantiles, MLPClassifier(random_state=seed)).fit(X, y)


PARAMS = {"alpha": "alpha", "batch": "batch_size", "lr": "learning_rate_init",
          "patience": "n_iter_no_change", "tol": "tol", "members": "n_members",
          "hidden": "hidden_layer_sizes", "epochs": "max_iter"}  # fmt: skip
FIXED: dict[str, dict[str, Any]] = {
    "defaults": {},
    "clip": {"clip_inputs": True},
    "glorot": {"glorot": True},
    "tanh": {"activation": "tanh"},
    "tanh+glorot": {"activation": "tanh", "glorot": True},
    "sigmoid": {"activation": "sigmoid"},
    "stop": {"early_stopping": True},
    "stop+p50": {"early_stopping": True, "n_iter_no_change": 50},
}


def variant(name: str) -> Callable[[Any, Any, int], Any]:
    """A function fitting the variant ``name`` on ``(X, y)`` for split ``seed``."""
    if name in FIXED:
        return lambda X, y, seed: fitted(dict(FIXED[name]), X, y, seed)
    special = {"average": averaged, "refit": refitted, "quantile": quantiled}
    if name in special:
        return special[name]
    key, _, value = name.partition("=")
    if key == "bag":
        return bagged(int(value))
    if key not in PARAMS:
        raise SystemExit(f"unknown variant {name!r}")
    param = PARAMS[key]
    number: Any
    if param == "hidden_layer_sizes":
        number = tuple(int(n) for n in value.split("x"))
    elif param in ("batch_size", "n_iter_no_change", "n_members", "max_iter"):
        number = int(value)
    else:
        number = float(value)
    return lambda X, y, seed: fitted({param: number}, X, y, seed)


def accuracy(name: str, splits: int, fit: Callable[[Any, Any, int], Any]) -> float:
    """Mean held-out accuracy of ``fit`` over ``classification.py``'s splits of ``name``."""
    X, y = classification.SETS[name](return_X_y=True)
    scores = []
    for seed in range(splits):
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.2, stratify=y, random_state=seed
        )
        scores.append(accuracy_score(y_te, fit(X_tr, y_tr, seed).predict(X_te)))
    return statistics.fmean(scores)


def rival(contender: str) -> Callable[[Any, Any, int], Any]:
    def fit(X: Any, y: Any, seed: int) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return classification.CONTENDERS[contender](seed).fit(X, y)

    return fit


DEFAULT_VARIANTS = (
    "defaults,clip,glorot,tanh,tanh+glorot,sigmoid,alpha=0.001,alpha=0.01,alpha=1,batch=32,"
    "batch=64,lr=0.003,patience=20,tol=1e-05,hidden=256,hidden=100x100,members=5,bag=5,"
    "average,refit,quantile"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help="comma-separated")
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=[*classification.DATASETS, "unseen"],
        help="as classification.py's; default: all nine",
    )
    parser.add_argument("--splits", type=int, default=5)
    args = parser.parse_args(argv)
    names = classification.set_names(args.datasets)
    variants = args.variants.split(",")
    rivals = {c: {n: accuracy(n, args.splits, rival(c)) for n in names}
              for c in ("sklearn MLP", "logistic")}  # fmt: skip
    print("| variant | " + " | ".join(names) + " | targets missed |")
    print("|---|" + "---|" * (len(names) + 1))
    for name in variants:
        fit = variant(name)
        scores = {n: accuracy(n, args.splits, fit) for n in names}
        missed = [f"{n} (< {c})" for c, by in rivals.items() for n in names if scores[n] < by[n]]
        cells = " | ".join(f"{scores[n]:.4f}" for n in names)
        print(f"| {name} | {cells} | {', '.join(missed) or 'none'} |", flush=True)
    for c, by in rivals.items():
        print(f"| {c} | " + " | ".join(f"{by[n]:.4f}" for n in names) + " | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
