"""The estimator's hyperparameters, checked and resolved into what the engine takes.

scikit-learn's rule is that ``__init__`` stores parameters untouched and ``fit``
validates them; :func:`resolve` is that validation.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradfit.defaults import (
    AUTO_BATCH,
    BACKENDS,
    HOLD_OUT,
    MAX_MEMBERS,
    MAX_UNITS,
    PRECISIONS,
    holds_out,
)
from gradfit.engine.activations import ACTIVATIONS
from gradfit.engine.losses import REGRESSION_LOSSES
from gradfit.engine.optim import OPTIMIZERS
from gradfit.engine.types import DTYPES

SOLVERS = tuple(OPTIMIZERS)


@dataclass(frozen=True)
class Settings:
    """The estimator's parameters after validation, in the engine's terms."""

    hidden: tuple[int, ...]
    activation: str
    solver: str
    loss: str | None
    """The ``loss`` parameter; ``None`` for an estimator without one (the classifier)."""
    dtype: np.dtype[Any]
    backend: str
    precision: str
    validation_fraction: float | None
    """As given: ``None`` holds out :data:`HOLD_OUT` when stopping early, else nothing."""
    log_every: int | None
    n_members: int | None
    """As given; ``None`` for ``"auto"``, resolved by a fit (:func:`gradfit.defaults.members`)."""
    batch_size: int | None
    """Rows per update (at most ``n_samples`` are taken), or ``None`` for the full batch."""
    distributed: bool


def _choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return str(value)


def _number(name: str, value: Any, low: float, high: float, *, closed: str = "both") -> float:
    """``value`` as a float in ``[low, high]`` (``closed`` says which ends are included)."""
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    # Compared only once known to be a number: '0.1' > 0 is Python's TypeError.
    ok_low = real and (value >= low if closed in ("both", "left") else value > low)
    ok_high = real and (value <= high if closed in ("both", "right") else value < high)
    if not (ok_low and ok_high):
        left = "[" if closed in ("both", "left") else "("
        right = "]" if closed in ("both", "right") else ")"
        raise ValueError(f"{name} must be a number in {left}{low}, {high}{right}; got {value!r}")
    return float(value)


def _positive_int(name: str, value: Any, high: int | None = None) -> int:
    """``value`` as an int in ``[1, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if high is not None and int(value) > high:
        raise ValueError(f"{name} must be at most {high:,}; got {value!r}")
    return int(value)


def _flag(name: str, value: Any) -> bool:
    """``value`` as a bool: ``shuffle="no"`` would otherwise be true."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


_SEEDS = (np.random.Generator, np.random.RandomState, np.random.SeedSequence,
          np.random.BitGenerator)  # fmt: skip


def _seed(value: Any) -> None:
    """Refuse a ``random_state`` NumPy cannot seed from, before it is used."""
    whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not (value is None or (whole and value >= 0) or isinstance(value, _SEEDS)):
        raise ValueError(
            "random_state must be None, a non-negative integer or a numpy Generator "
            f"(or RandomState); got {value!r}"
        )


def _hidden(sizes: Any) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of positive ints: ``100``, ``(64, 64)``, ``()``."""
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = [sizes]
    elif isinstance(sizes, str | bytes) or not isinstance(sizes, Iterable):
        raise ValueError(
            "hidden_layer_sizes must be a positive integer or a sequence of them, such as "
            f"100 or (64, 64); got {sizes!r}"
        )
    return tuple(_positive_int("each of hidden_layer_sizes", s, MAX_UNITS) for s in sizes)


def resolve(p: dict[str, Any]) -> Settings:
    """Check the estimator's parameters ``p`` (from ``get_params()``); raise ``ValueError``."""
    hidden = _hidden(p["hidden_layer_sizes"])
    _seed(p["random_state"])
    for name in ("shuffle", "warm_start", "nesterovs_momentum", "standardize", "clip_inputs",
                 "record_parameters"):  # fmt: skip
        _flag(name, p[name])
    inf = float("inf")
    _number("learning_rate_init", p["learning_rate_init"], 0, inf, closed="neither")
    _number("alpha", p["alpha"], 0, inf, closed="left")  # inf: every weight forced to 0
    _number("momentum", p["momentum"], 0, 1)
    _number("beta_1", p["beta_1"], 0, 1, closed="left")
    _number("beta_2", p["beta_2"], 0, 1, closed="left")
    _number("epsilon", p["epsilon"], 0, inf, closed="neither")
    _number("tol", p["tol"], 0, inf)
    _positive_int("max_iter", p["max_iter"])
    _positive_int("n_iter_no_change", p["n_iter_no_change"])
    n_members = p.get("n_members", 1)
    if n_members != "auto":
        n_members = _positive_int("n_members (networks in the ensemble, 1 for one network, "
                                  "or 'auto')", n_members, MAX_MEMBERS)  # fmt: skip
    batch_size = p["batch_size"]
    if batch_size == "auto":
        batch_size = AUTO_BATCH
    elif batch_size is not None:
        batch_size = _positive_int("batch_size (an integer, 'auto' or None)", batch_size)
    fraction = p["validation_fraction"]
    if fraction is not None:
        fraction = _number("validation_fraction", fraction, 0, 1, closed="neither")
    if p["early_stopping"] not in (True, False, "auto"):
        raise ValueError(
            f"early_stopping must be True, False or 'auto'; got {p['early_stopping']!r}"
        )
    if not isinstance(p["verbose"], numbers.Real) or p["verbose"] < 0:
        raise ValueError(
            f"verbose must be a number >= 0 (epochs between log lines); got {p['verbose']!r}"
        )
    verbose = int(float(p["verbose"]))
    try:
        dtype_name = np.dtype(p["dtype"]).name if p["dtype"] is not None else None
    except TypeError:  # not a dtype at all ("foo"); a dtype gradfit does not train in is below
        dtype_name = str(p["dtype"])
    backend = _choice("backend", p["backend"], BACKENDS)
    if backend == "numpy" and p["device"] not in (None, "cpu"):
        raise ValueError(f"device={p['device']!r} needs backend='torch'; numpy runs on the CPU")
    precision = _choice("precision", p["precision"], PRECISIONS)
    if precision == "bf16-mixed" and backend != "torch":
        raise ValueError("precision='bf16-mixed' needs backend='torch'")
    if precision == "bf16-mixed" and dtype_name != "float32":
        raise ValueError(f"precision='bf16-mixed' needs dtype='float32'; got {dtype_name!r}")
    distributed = p.get("distributed", False)
    if distributed not in (True, False):
        raise ValueError(f"distributed must be True or False; got {distributed!r}")
    if distributed and backend != "torch":
        raise ValueError("distributed=True needs backend='torch'")
    if distributed and precision != "full":
        raise ValueError("distributed=True trains in precision='full'")
    return Settings(
        hidden=hidden,
        activation=_choice("activation", p["activation"], tuple(ACTIVATIONS)),
        solver=_choice("solver", p["solver"], SOLVERS),
        loss=_choice("loss", p["loss"], REGRESSION_LOSSES) if "loss" in p else None,
        dtype=DTYPES[_choice("dtype", dtype_name, tuple(DTYPES))],
        backend=backend,
        precision=precision,
        validation_fraction=fraction,
        log_every=verbose or None,
        n_members=None if n_members == "auto" else n_members,
        batch_size=batch_size,
        distributed=bool(distributed),
    )


def check_continuable(
    spec: dict[str, Any], solver: str | None, s: Settings, n_outputs: int
) -> None:
    """Raise ``ValueError`` unless a fitted network ``spec`` (:attr:`MLP.spec`), trained
    by ``solver`` for ``n_outputs`` targets, is the one the settings ``s`` describe, so
    that ``warm_start`` or ``partial_fit`` may continue it; after ``set_params`` it may
    not be (another ``n_members`` kept the fitted members; another ``loss`` head failed
    inside the network)."""
    now = {
        "hidden_layer_sizes": (list(spec["sizes"][1:-1]), list(s.hidden)),
        "activation": (spec["activation"], s.activation),
        "dtype": (spec["dtype"], s.dtype.name),
        "solver": (solver, s.solver),
        "n_members": (spec.get("n_members", 1), s.n_members or spec.get("n_members", 1)),
    }
    changed = [
        f"{name} is {new!r} but the fitted network has {old!r}"
        for name, (old, new) in now.items()
        if old is not None and old != new
    ]
    if s.loss is not None and (spec["sizes"][-1] == 2 * n_outputs) != (s.loss == "gaussian_nll"):
        head = "a mean-only head" if s.loss == "gaussian_nll" else "a mean and a variance head"
        changed.append(f"loss is {s.loss!r} but the fitted network has {head}")
    if changed:
        raise ValueError(
            f"cannot continue the fitted network: {'; '.join(changed)}. Set "
            "warm_start=False (or call fit) to train a new network with these parameters"
        )


def held_out_fraction(s: Settings, early_stopping: bool | str, n_samples: int) -> float | None:
    """The share of ``n_samples`` rows to hold out, or ``None`` for no validation split.

    A given ``validation_fraction`` always holds out (without early stopping, only to
    record ``validation_loss_curve_``); unset, :data:`HOLD_OUT` when the fit stops early
    (see :func:`~gradfit.defaults.holds_out`).
    """
    if s.validation_fraction is not None:
        return s.validation_fraction
    return HOLD_OUT if holds_out(early_stopping, n_samples, None) else None


def batch_rows(batch_size: int | None, n_samples: int) -> int:
    """Rows per update of :attr:`Settings.batch_size` over ``n_samples`` rows."""
    return n_samples if batch_size is None else min(batch_size, n_samples)


def optimizer_hyper(
    p: dict[str, Any], s: Settings, *, batch: int, n_outputs: int
) -> dict[str, Any]:
    """The optimizer's ``torch.optim`` hyperparameters from the estimator's names.

    ``alpha`` becomes ``weight_decay`` λ, which adds ``(λ/2)·‖θ‖²`` to the loss. It is
    chosen so that the minimiser is that of ``MSE + (alpha / batch)·‖θ‖²`` — twice
    scikit-learn's ``½·MSE + alpha/(2·batch)·‖W‖²`` — for either loss: λ = 2·alpha/batch
    with ``mse``, λ = 2·alpha·n_outputs with ``sse`` (``SSE = batch·n_outputs·MSE``).
    ``gaussian_nll``, a mean over the targets as ``mse`` is, takes ``mse``'s λ.
    The classifier's cross-entropies are means, as ``mse``: λ = 2·alpha/batch.
    Unlike scikit-learn, the biases are penalised too, as ``weight_decay`` does.
    """
    alpha = float(p["alpha"])
    decay = 2 * alpha * n_outputs if s.loss == "sse" else 2 * alpha / batch
    lr = float(p["learning_rate_init"])
    if s.solver == "adam":
        betas = (float(p["beta_1"]), float(p["beta_2"]))
        return {"lr": lr, "betas": betas, "eps": float(p["epsilon"]), "weight_decay": decay}
    momentum = float(p["momentum"])
    return {
        "lr": lr,
        "momentum": momentum,
        "nesterov": bool(p["nesterovs_momentum"]) and momentum > 0,
        "weight_decay": decay,
    }
