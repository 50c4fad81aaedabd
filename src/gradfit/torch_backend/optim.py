"""Optimizers for the torch backend, and their state in the engine's format.

``make_optimizer("manual" | "sgd" | "adam", params, **hyper)`` takes the engine's
hyperparameter names (which are ``torch.optim``'s). The state of an optimizer is
exchanged as the engine's :meth:`gradfit.engine.Optimizer.state_dict` is —
``{"t": steps, "state": [{"b": …} or {"m": …, "v": …} per parameter]}`` with NumPy
arrays — so a checkpoint written by one backend resumes in the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from gradfit.torch_backend.mapping import NUMPY_DTYPES


class HandWritten(torch.optim.Optimizer):
    """The walk-through's update, written by hand rather than taken from ``torch.optim``.

    For each parameter ``p``, under ``torch.no_grad()``::

        p ← p - lr · p.grad,   then   p.grad ← 0
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3) -> None:
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> None:  # type: ignore[override]
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.sub_(group["lr"] * p.grad)
                    p.grad.zero_()

    def zero_grad(self, set_to_none: bool = True) -> None:
        """As ``torch.optim.Optimizer.zero_grad``, without its profiler hooks, which cost
        more than the update itself on the walk-through's two parameters."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.zero_()


OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "manual": HandWritten,
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
}
HYPERPARAMETERS = {
    "manual": ("lr",),
    "sgd": ("lr", "momentum", "dampening", "weight_decay", "nesterov"),
    "adam": ("lr", "betas", "eps", "weight_decay"),
}


def make_optimizer(
    name: str, params: Iterable[torch.Tensor], **hyper: Any
) -> torch.optim.Optimizer:
    """The optimizer ``name`` over ``params``.

    Parameters
    ----------
    name : {"manual", "sgd", "adam"}
        ``manual`` is :class:`HandWritten`; the others are ``torch.optim.SGD`` and
        ``torch.optim.Adam``, the algorithms :mod:`gradfit.engine.optim` implements.
    params : iterable of tensors
        Usually ``module.parameters()``.
    **hyper
        ``lr``; for ``sgd`` also ``momentum``, ``dampening``, ``weight_decay``,
        ``nesterov``; for ``adam`` also ``betas``, ``eps``, ``weight_decay``.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
    unknown = sorted(set(hyper) - set(HYPERPARAMETERS[name]))
    if unknown:
        raise ValueError(
            f"optimizer {name!r} takes {', '.join(HYPERPARAMETERS[name])}; "
            f"got unknown {', '.join(unknown)}"
        )
    if (
        name == "sgd"
        and hyper.get("nesterov")
        and (hyper.get("momentum", 0) <= 0 or hyper.get("dampening", 0) != 0)
    ):
        raise ValueError("nesterov momentum requires momentum > 0 and dampening = 0")
    params = list(params)
    if name != "manual" and fusable(params):
        hyper = {**hyper, "fused": True}
    return OPTIMIZERS[name](params, **hyper)


def fusable(params: list[torch.Tensor]) -> bool:
    """Whether ``params`` are updated by torch's fused ``SGD``/``Adam``: float32 tensors on
    the CPU or a CUDA device. The fused update is one kernel per step instead of a dozen
    calls per parameter (5 % of the large workload's step on one thread), with the same
    algebra rounded differently; float64, the precision in which the backend and the
    engine agree at every step (rtol 1e-10), keeps torch's reference loop."""
    return bool(params) and all(
        p.dtype == torch.float32 and p.device.type in ("cpu", "cuda") for p in params
    )


# torch.optim's state names and the engine's.
_ENGINE_NAMES = {"momentum_buffer": "b", "exp_avg": "m", "exp_avg_sq": "v"}
_TORCH_NAMES = {v: k for k, v in _ENGINE_NAMES.items()}


def _buffers(optimizer: torch.optim.Optimizer, group: dict[str, Any]) -> tuple[str, ...]:
    """The engine's names of the buffers ``optimizer`` keeps per parameter of ``group``."""
    if isinstance(optimizer, torch.optim.Adam):
        return ("m", "v")
    if isinstance(optimizer, torch.optim.SGD):
        return ("b",) if group["momentum"] else ()
    return ()


def _params(optimizer: torch.optim.Optimizer) -> list[tuple[torch.Tensor, dict[str, Any]]]:
    return [(p, group) for group in optimizer.param_groups for p in group["params"]]


def steps_taken(optimizer: torch.optim.Optimizer) -> int:
    """The step count recorded in ``optimizer``'s state (Adam's ``step``), else 0."""
    for p, _ in _params(optimizer):
        step = optimizer.state.get(p, {}).get("step")
        if step is not None:
            return int(step)
    return 0


def state_to_numpy(optimizer: torch.optim.Optimizer, t: int) -> dict[str, Any]:
    """``optimizer``'s state after ``t`` steps, as the engine's ``state_dict()``.

    Buffers that torch creates on the first step are zeros before it, as the
    engine's are.
    """
    state = []
    for p, group in _params(optimizer):
        own = optimizer.state.get(p, {})
        entry = {}
        for name in _buffers(optimizer, group):
            buf = own.get(_TORCH_NAMES[name])
            entry[name] = (
                np.zeros(tuple(p.shape), dtype=NUMPY_DTYPES[p.dtype])
                if buf is None
                else buf.detach().cpu().numpy().copy()
            )
        state.append(entry)
    return {"t": int(t), "state": state}


def load_numpy_state(optimizer: torch.optim.Optimizer, saved: dict[str, Any]) -> int:
    """Load the engine-format ``saved`` into ``optimizer``; return its step count."""
    t = int(saved["t"])
    pairs = _params(optimizer)
    if len(saved["state"]) != len(pairs):
        raise ValueError(
            f"the optimizer state has {len(saved['state'])} entries, "
            f"the model {len(pairs)} parameters"
        )
    for (p, group), entry in zip(pairs, saved["state"], strict=True):
        optimizer.state.pop(p, None)
        if t == 0:
            continue  # torch creates its buffers on the first step
        own: dict[str, Any] = {}
        for name in _buffers(optimizer, group):
            own[_TORCH_NAMES[name]] = torch.as_tensor(
                np.asarray(entry[name]), dtype=p.dtype, device=p.device
            ).clone()
        if isinstance(optimizer, torch.optim.Adam):
            # torch keeps Adam's step as a float32 tensor: on the CPU, or beside the
            # parameters for the fused update.
            fused = bool(group.get("fused"))
            own["step"] = torch.tensor(
                float(t), dtype=torch.float32, device=p.device if fused else None
            )
        if own:
            optimizer.state[p] = own
    return t
