"""The messages between the page and the server, and their validation.

Every message is a JSON object with a ``type``. Anything the page may send is
checked here field by field — unknown fields, wrong types, NaN, out-of-range
numbers — and refused with a :class:`ProtocolError` whose message says what was
wrong and what is allowed; the server sends it back as an ``error`` message.

Page → server: ``configure`` {settings}, ``play`` {until?}, ``pause``, ``step``
{epochs?}, ``reset``, ``speed`` {epochs_per_update}, ``upload`` {name, size}
(followed by binary frames), ``export``, ``ping`` {id?}.

Server → page: ``hello``, ``data``, ``update``, ``status``, ``table``,
``export``, ``pong``, ``error``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

from gradfit.engine.activations import ACTIVATIONS
from gradfit.playground.limits import LIMITS, Limits, memory_estimate, weights_of

DATASETS = ("line", "sine", "ripple", "peaks", "csv")
OPTIMIZERS = ("sgd", "momentum", "adam")
LOSSES = ("mse", "sse")
BACKENDS = ("numpy", "torch")

# The fields each message type may carry besides "type".
MESSAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "configure": ("settings",),
    "play": ("until",),
    "pause": (),
    "step": ("epochs",),
    "reset": (),
    "speed": ("epochs_per_update",),
    "upload": ("name", "size"),
    "export": (),
    "ping": ("id",),
}


class ProtocolError(ValueError):
    """A message the server refuses; ``field`` names the offending setting, if one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Settings:
    """Everything that defines a run (the page's URL holds exactly these).

    ``noise`` is the standard deviation of the Gaussian noise on the targets;
    ``train_fraction`` the share of points trained on (the rest is the test
    set); ``batch_size`` ``None`` is the full batch; ``l2`` the estimator's
    ``alpha``; ``features`` and ``target`` name the columns of an uploaded CSV.
    """

    data: str = "sine"
    noise: float = 1.0
    n_points: int = 100
    train_fraction: float = 0.2
    seed: int = 0
    features: tuple[str, ...] = ()
    target: str = ""
    hidden: tuple[int, ...] = (64,)
    activation: str = "relu"
    loss: str = "mse"
    optimizer: str = "adam"
    lr: float = 0.01
    batch_size: int | None = None
    l2: float = 0.0
    backend: str = "numpy"

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["features"], d["hidden"] = list(self.features), list(self.hidden)
        return d


SETTING_NAMES = tuple(Settings.__dataclass_fields__)


def parse_message(text: str) -> dict[str, Any]:
    """The JSON object in ``text`` with a known ``type`` and only that type's fields."""
    try:
        message = json.loads(text, parse_constant=_no_constant)
    except ProtocolError:
        raise
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"the message is not valid JSON ({exc})") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object with a 'type'")
    kind = message.get("type")
    if kind not in MESSAGE_FIELDS:
        known = ", ".join(sorted(MESSAGE_FIELDS))
        raise ProtocolError(f"unknown message type {kind!r}; the server understands {known}")
    _only(message, ("type", *MESSAGE_FIELDS[kind]), f"a {kind!r} message")
    return message


def _no_constant(name: str) -> Any:
    raise ProtocolError(f"{name} is not a number the playground accepts; send finite numbers")


def _only(obj: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise ProtocolError(
            f"unknown field {unknown[0]!r} in {where}; allowed: {', '.join(allowed)}", unknown[0]
        )


def integer(value: Any, name: str, low: int, high: int, *, field: str | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (a JSON integer, not a bool or a float);
    ``field`` names the setting in the error when ``name`` describes it in words."""
    field = field or name
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{name} must be an integer from {low} to {high}; got {value!r}", field)
    if not low <= value <= high:
        raise ProtocolError(f"{name} must be from {low} to {high}; got {value}", field)
    return value


def number(value: Any, name: str, low: float, high: float, *, open_low: bool = False) -> float:
    """``value`` as a finite float in ``[low, high]`` (``(low, high]`` with ``open_low``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProtocolError(f"{name} must be a finite number; got {value!r}", name)
    if value < low or value > high or (open_low and value == low):
        left = "(" if open_low else "["
        raise ProtocolError(f"{name} must be in {left}{low:g}, {high:g}]; got {value!r}", name)
    return float(value)


def choice(value: Any, name: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ProtocolError(f"{name} must be one of {', '.join(options)}; got {value!r}", name)
    return str(value)


def settings_from(raw: Any, limits: Limits = LIMITS) -> Settings:
    """Check the page's settings object; missing fields take :class:`Settings`' defaults."""
    if not isinstance(raw, dict):
        raise ProtocolError("settings must be a JSON object", "settings")
    _only(raw, SETTING_NAMES, "settings")
    d = Settings().as_dict() | raw
    hidden = d["hidden"]
    if not isinstance(hidden, list):
        raise ProtocolError("hidden must be a list of layer widths, e.g. [64, 64]", "hidden")
    if len(hidden) > limits.max_layers:
        raise ProtocolError(
            f"at most {limits.max_layers} hidden layers; got {len(hidden)}", "hidden"
        )
    features = d["features"]
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise ProtocolError("features must be a list of column names", "features")
    if not isinstance(d["target"], str):
        raise ProtocolError("target must be a column name", "target")
    batch = d["batch_size"]
    return Settings(
        data=choice(d["data"], "data", DATASETS),
        noise=number(d["noise"], "noise", 0.0, 100.0),
        n_points=integer(d["n_points"], "n_points", 3, limits.max_points),
        train_fraction=number(d["train_fraction"], "train_fraction", 0.0, 0.95, open_low=True),
        seed=integer(d["seed"], "seed", 0, 2**32 - 1),
        features=tuple(features),
        target=d["target"],
        hidden=tuple(
            integer(h, "each hidden layer's width", 1, limits.max_units, field="hidden")
            for h in hidden
        ),
        activation=choice(d["activation"], "activation", tuple(sorted(ACTIVATIONS))),
        loss=choice(d["loss"], "loss", LOSSES),
        optimizer=choice(d["optimizer"], "optimizer", OPTIMIZERS),
        lr=number(d["lr"], "lr", 0.0, 10.0, open_low=True),
        batch_size=None if batch is None else integer(batch, "batch_size", 1, limits.max_points),
        l2=number(d["l2"], "l2", 0.0, 10.0),
        backend=choice(d["backend"], "backend", BACKENDS),
    )


def check_size(
    n_train: int, n_test: int, n_in: int, hidden: tuple[int, ...], limits: Limits
) -> None:
    """Refuse a run whose epoch or memory would exceed the caps, saying which and by how much."""
    work = n_train * weights_of(n_in, list(hidden))
    if work > limits.max_work:
        raise ProtocolError(
            f"{n_train} training rows × {weights_of(n_in, list(hidden)):,} weights = {work:,} "
            f"per epoch is over this session's cap of {limits.max_work:,}; use fewer points "
            "or a smaller network",
            "hidden",
        )
    memory = memory_estimate(n_train, n_in, list(hidden), n_test)
    if memory > limits.max_memory_bytes:
        raise ProtocolError(
            f"the run would need about {memory / 2**20:.0f} MiB, over this session's cap of "
            f"{limits.max_memory_bytes / 2**20:.0f} MiB; use fewer points or a smaller network",
            "hidden",
        )


def error(message: str, *, field: str | None = None, request: str | None = None) -> dict[str, Any]:
    """An ``error`` message: what was wrong and what to do, and which setting or request."""
    return {"type": "error", "message": message, "field": field, "request": request}
