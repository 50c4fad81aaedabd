"""A fitted estimator as plain data — JSON metadata and named arrays — and back.

This is what :func:`gradfit.save` writes (safetensors + JSON, never pickle).

``meta`` (JSON-serialisable)::

    estimator              "MLPRegressor" or "MLPClassifier"
    params                 get_params(); tuples as lists, a Generator random_state as null
    spec                   {"sizes": [n_in, *hidden, n_out], "activation": …, "dtype": …}
                           and "n_members": K for an ensemble (n_out is 2·n_outputs_
                           for loss="gaussian_nll": means, then raw variances)
    n_features_in_, n_outputs_, standardized
    feature_names_in_      list of str, or null
    n_iter_, loss_curve_, validation_loss_curve_, best_loss_, loss_name
    early_stopping_, best_epoch_, stop_reason_
                           how the last fit ended (files written before they were
                           kept read as null)
    …                      the estimator's targets (``_export_targets``): the
                           regressor's ``y_is_1d``, the classifier's label set

``arrays``: ``W1, b1, W2, b2, …`` (engine layout, ``W: (n_out, n_in)``; an ensemble's
``W: (K, n_out, n_in)``, ``b: (K, n_out)``), ``x_min, x_max: (n_features,)`` (the training
range) and, when standardised, ``x_center, x_scale: (n_features,)`` (and the regressor's
``y_center, y_scale: (n_outputs,)``, ``variance_calibration: (2, n_outputs)`` when
the regressor's meta says ``variance_calibrated`` and ``variance_slopes: (n_features,
n_outputs)`` when it says ``variance_slopes``). The optimizer's state and a recorded
trajectory are not kept.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from gradfit.datasets import Standardizer
from gradfit.engine.ensemble import Ensemble
from gradfit.engine.history import History
from gradfit.engine.losses import get_loss, head_width
from gradfit.engine.network import MLP
from gradfit.engine.types import Array, check_dtype
from gradfit.errors import ModelFileError
from gradfit.estimator._params import resolve
from gradfit.io.safetensors_file import DTYPES

if TYPE_CHECKING:
    from gradfit.estimator._base import MLPBase


CODES = {dtype: code for code, dtype in DTYPES.items()}
"""The safetensors code of each NumPy dtype a model file holds (``float32`` is ``F32``)."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, type | np.dtype):
        return np.dtype(value).name  # dtype=np.float32 is written "float32"
    if isinstance(value, np.random.Generator | np.random.RandomState):
        return None  # a generator's state is not a parameter one can write down
    return str(value)  # e.g. a torch.device or numpy dtype


def export_state(est: MLPBase) -> tuple[dict[str, Any], dict[str, Array]]:
    """``(meta, arrays)`` of a fitted ``est`` (see the module docstring)."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    params = est.net_.parameters()
    arrays = {f"{'Wb'[i % 2]}{i // 2 + 1}": p.copy() for i, p in enumerate(params)}
    arrays["x_min"] = np.asarray(est.x_min_, dtype=np.float64)
    arrays["x_max"] = np.asarray(est.x_max_, dtype=np.float64)
    arrays |= scaler_arrays("x", est.x_scaler_)
    names = getattr(est, "feature_names_in_", None)
    meta = {
        "estimator": type(est).__name__,
        "params": {k: _jsonable(v) for k, v in est.get_params().items()},
        "spec": est.net_.spec,
        "n_features_in_": int(est.n_features_in_),
        "feature_names_in_": None if names is None else [str(n) for n in names],
        "n_outputs_": int(est.n_outputs_),
        "standardized": est.x_scaler_ is not None,
        "n_iter_": int(est.n_iter_),
        "loss_curve_": [float(v) for v in est.loss_curve_],
        "validation_loss_curve_": [float(v) for v in est.validation_loss_curve_],
        "best_loss_": float(est.best_loss_),
        "loss_name": est.history_.loss_name,
        "early_stopping_": getattr(est, "early_stopping_", None),
        "best_epoch_": getattr(est, "best_epoch_", None),
        "stop_reason_": getattr(est, "stop_reason_", None),
    }
    targets, target_arrays = est._export_targets()
    return meta | targets, arrays | target_arrays


def scaler_arrays(name: str, scaler: Standardizer | None) -> dict[str, Array]:
    """``{name_center, name_scale}`` of ``scaler`` in float64, or nothing without one."""
    if scaler is None:
        return {}
    return {
        f"{name}_center": np.asarray(scaler.center, dtype=np.float64),
        f"{name}_scale": np.asarray(scaler.scale, dtype=np.float64),
    }


def expected_arrays(meta: Any, kind: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """``{name: (safetensors dtype, shape)}`` of every array :func:`export_state` writes
    for ``meta`` of a ``kind`` ("regressor", "classifier") model: the parameters, of the
    network's dtype, and the float64 scalers and input range.

    Raises ``KeyError``, ``TypeError`` or ``ValueError`` when ``meta`` is malformed.
    """
    spec = meta["spec"]
    sizes, members = spec["sizes"], spec.get("n_members")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes):
        raise ValueError(f"sizes {sizes!r} are not positive integers")
    dtype = CODES[check_dtype(spec["dtype"])]
    stack = () if members is None else (int(members),)
    arrays: dict[str, tuple[str, tuple[int, ...]]] = {}
    for i in range(1, len(sizes)):
        arrays[f"W{i}"] = (dtype, (*stack, sizes[i], sizes[i - 1]))
        arrays[f"b{i}"] = (dtype, (*stack, sizes[i]))
    scaled = [("x", meta["n_features_in_"])] + (
        [("y", meta["n_outputs_"])] if kind == "regressor" else []
    )
    if meta["standardized"]:
        for name, n in scaled:
            arrays[f"{name}_center"] = arrays[f"{name}_scale"] = ("F64", (int(n),))
    arrays["x_min"] = arrays["x_max"] = ("F64", (int(meta["n_features_in_"]),))
    if kind == "regressor" and meta.get("variance_calibrated") is True:
        arrays["variance_calibration"] = ("F64", (2, int(meta["n_outputs_"])))
    if kind == "regressor" and meta.get("variance_slopes") is True:
        shape = (int(meta["n_features_in_"]), int(meta["n_outputs_"]))
        arrays["variance_slopes"] = ("F64", shape)
    return arrays


OPTIONAL_ARRAYS = frozenset({"x_min", "x_max"})
"""Arrays that files written before they existed lack (the training range of ``X``)."""


STOP_REASONS = ("early_stopping", "no_improvement", "max_iter", "interrupted")


def _how_it_ended(meta: dict[str, Any], n_iter: int) -> tuple[bool | None, int | None, str | None]:
    """``early_stopping_``, ``best_epoch_`` and ``stop_reason_`` from ``meta`` (each
    ``None`` in files written before they were kept), checked."""
    early, best, reason = (meta.get(k) for k in ("early_stopping_", "best_epoch_", "stop_reason_"))
    if early is not None and not isinstance(early, bool):
        raise ValueError(f"early_stopping_ {early!r} is not true, false or null")
    if best is not None and (
        isinstance(best, bool) or not isinstance(best, int) or not 0 <= best <= n_iter
    ):
        raise ValueError(f"best_epoch_ {best!r} is not an epoch between 0 and n_iter_ {n_iter}")
    if reason is not None and reason not in STOP_REASONS:
        raise ValueError(f"stop_reason_ {reason!r} is not one of {', '.join(STOP_REASONS)}")
    return early, best, reason


def import_state(cls: type[MLPBase], meta: dict[str, Any], arrays: dict[str, Array]) -> Any:
    """A fitted estimator from :func:`export_state`'s output; its ``predict`` works.

    Raises
    ------
    ModelFileError
        When ``meta`` or ``arrays`` lack something or do not fit together.
    """
    try:
        return _build(cls, meta, arrays)
    except KeyError as exc:
        raise ModelFileError(f"the {cls.__name__} state is incomplete: it lacks {exc}") from None
    except (IndexError, TypeError, ValueError) as exc:
        raise ModelFileError(f"the {cls.__name__} state is inconsistent: {exc}") from None


def _build(cls: type[MLPBase], meta: dict[str, Any], arrays: dict[str, Array]) -> Any:
    if meta.get("estimator") != cls.__name__:
        raise ValueError(f"not an {cls.__name__} state: estimator={meta.get('estimator')!r}")
    params = dict(meta["params"])
    if isinstance(params["hidden_layer_sizes"], list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    est = cls(**params)
    # The parameters are checked as fit checks them, so that get_params() describes a
    # valid estimator, and below, the network they describe is the one in the file.
    settings = resolve(est.get_params())
    spec = meta["spec"]
    n_layers = len(spec["sizes"]) - 1
    weights = [arrays[f"{kind}{i}"] for i in range(1, n_layers + 1) for kind in "Wb"]
    kind = Ensemble if "n_members" in spec else MLP
    est.net_ = kind.from_parameters(spec["sizes"], spec["activation"], weights)
    members = est.net_.n_members if isinstance(est.net_, Ensemble) else 1
    given = params.get("n_members", 1)
    if members != spec.get("n_members", 1) or (given != "auto" and members != given):
        raise ValueError(
            f"the arrays hold {members} member(s), the spec says {spec.get('n_members', 1)} "
            f"and the parameters n_members={params.get('n_members', 1)}"
        )
    if est.net_.dtype.name != spec["dtype"]:
        raise ValueError(f"parameters are {est.net_.dtype.name}, the spec says {spec['dtype']}")
    described = (list(settings.hidden), settings.activation, settings.dtype.name)
    held = (list(est.net_.sizes[1:-1]), est.net_.activation, est.net_.dtype.name)
    if described != held:
        raise ValueError(
            "the parameters describe hidden_layer_sizes={}, activation={!r}, dtype={!r}; "
            "the network has {}, {!r}, {!r}".format(*described, *held)
        )
    est.n_features_in_ = int(meta["n_features_in_"])
    names = meta["feature_names_in_"]
    if names is not None:
        if not (
            isinstance(names, list)
            and len(names) == est.n_features_in_
            and all(isinstance(n, str) for n in names)
            and len(set(names)) == len(names)
        ):
            raise ValueError(
                f"feature_names_in_ is not a list of {est.n_features_in_} distinct strings"
            )
        est.feature_names_in_ = np.asarray(names, dtype=object)
    est.n_outputs_ = int(meta["n_outputs_"])
    n_out = head_width(get_loss(params.get("loss", "mse")), est.n_outputs_)
    if spec["sizes"][0] != est.n_features_in_ or spec["sizes"][-1] != n_out:
        raise ValueError(f"network sizes {spec['sizes']} do not match the features and outputs")
    # Files written before clip_inputs existed have no ranges: nothing is clipped.
    est.x_min_ = arrays.get("x_min", np.full(est.n_features_in_, -np.inf))
    est.x_max_ = arrays.get("x_max", np.full(est.n_features_in_, np.inf))
    est.x_scaler_ = None
    expected = expected_arrays(
        meta, "classifier" if cls.__name__ == "MLPClassifier" else "regressor"
    )
    if not set(expected) - OPTIONAL_ARRAYS <= set(arrays) <= set(expected):
        raise ValueError(f"the arrays are {sorted(arrays)}, the state needs {sorted(expected)}")
    for name, (dtype, shape) in expected.items():
        if name not in arrays:
            continue
        if arrays[name].shape != shape or arrays[name].dtype.str[1:] != DTYPES[dtype].str[1:]:
            raise ValueError(
                f"array {name} is {arrays[name].dtype} of shape {arrays[name].shape}; "
                f"it must be {dtype} of shape {shape}"
            )
        if name.endswith("_scale") and not (arrays[name] > 0).all():
            raise ValueError("a scaler's scale is zero or negative")
    if meta["standardized"]:
        est.x_scaler_ = Standardizer(arrays["x_center"], arrays["x_scale"])
    est._import_targets(meta, arrays)
    est.history_ = History(
        loss=list(meta["loss_curve_"]),
        val_loss=list(meta["validation_loss_curve_"]),
        loss_name=meta["loss_name"],
    )
    est._set_curves()
    est.best_loss_ = float(meta["best_loss_"])
    est.early_stopping_, est.best_epoch_, est.stop_reason_ = _how_it_ended(meta, est.n_iter_)
    # A warm start after loading begins a new random stream and a fresh optimizer.
    est._rng = np.random.default_rng(params["random_state"])
    est._optimizer_state = None
    return est
