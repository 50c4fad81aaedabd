"""Optimizers that follow ``torch.optim``'s documented algorithms and names.

An optimizer holds the live parameter arrays and updates them in place from a list
of gradients in the same order: ``opt.step(grads)``.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from gradfit.engine.flat import flat_of, split_flat
from gradfit.engine.types import Array


class Optimizer:
    """Base class: parameters, hyperparameters, a step counter and per-parameter state.

    The update runs once over all parameters laid end to end in one flat buffer (and
    likewise the gradients and the state), so a step costs a dozen NumPy calls however
    many arrays the model has. An :class:`~gradfit.engine.MLP`'s parameters and
    gradients are such views already, and are updated where they lie; other arrays are
    gathered into a buffer before each step and written back after it, so they stay
    the caller's own arrays.
    """

    def __init__(self, params: Sequence[Array], **hyper: Any) -> None:
        self.params = _arrays(params)
        self.hyper = dict(hyper)
        self.t = 0
        dtypes = {p.dtype for p in self.params}
        if len(dtypes) > 1:
            raise ValueError(f"all parameters must share one dtype, got {sorted(map(str, dtypes))}")
        dtype = dtypes.pop() if dtypes else np.dtype(np.float64)
        n = sum(p.size for p in self.params)
        shared = flat_of(self.params)
        self._gathered = shared is None
        self._p = np.empty(n, dtype) if shared is None else shared
        self._g, self._tmp = np.empty(n, dtype), np.empty(n, dtype)
        self._p_parts = split_flat(self._p, self.params)
        self._grads: list[Array] = []
        self._g_shared: Array | None = None
        self._flat_state: dict[str, Array] = {}

    def _new_state(self, *names: str) -> list[dict[str, Array]]:
        """Zeroed flat buffers ``names`` for :meth:`_step`; returns their per-parameter views."""
        self._flat_state = {k: np.zeros_like(self._p) for k in names}
        views = {k: split_flat(v, self.params) for k, v in self._flat_state.items()}
        return [{k: views[k][i] for k in names} for i in range(len(self.params))]

    def _flat_gradient(self, grads: Sequence[Array]) -> Array:
        """``grads`` laid end to end: the buffer they are views of, or a copy in ``_g``."""
        if len(grads) != len(self._grads) or not all(map(operator.is_, grads, self._grads)):
            self._grads, self._g_shared = list(grads), flat_of(grads)
        if self._g_shared is not None and self._g_shared.dtype == self._p.dtype:
            return self._g_shared
        np.concatenate([g.reshape(-1) for g in grads], out=self._g)
        return self._g

    def step(self, grads: Sequence[Array]) -> None:
        """Update every parameter in place from its gradient ``grads[i]``."""
        if len(grads) != len(self.params):
            raise ValueError(f"expected {len(self.params)} gradients, got {len(grads)}")
        self.t += 1
        if not self.params:
            return
        if self._gathered:
            np.concatenate([p.reshape(-1) for p in self.params], out=self._p)
        self._step(self._p, self._flat_gradient(grads), self._tmp, self._flat_state)
        if self._gathered:
            for p, new in zip(self.params, self._p_parts, strict=True):
                np.copyto(p, new)

    def _states(self) -> list[dict[str, Array]]:
        raise NotImplementedError

    def flat_buffers(self) -> dict[str, Array]:
        """The state buffers by name (``m``, ``v``; ``b``), each over all parameters laid
        end to end: the arrays the optimizer updates, for a kernel that updates them too."""
        return self._flat_state

    def _step(self, p: Array, g: Array, tmp: Array, state: dict[str, Array]) -> None:
        """Update the flat parameters ``p`` from the flat gradient ``g`` (which it leaves
        as it is), with the scratch buffer ``tmp`` and the flat ``state`` buffers."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Step count and per-parameter buffers (copies), for checkpoints."""
        return {
            "t": self.t,
            "state": [{k: v.copy() for k, v in s.items()} for s in self._states()],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.t = int(state["t"])
        for own, saved in zip(self._states(), state["state"], strict=True):
            for k, v in own.items():
                np.copyto(v, saved[k])

    def __reduce__(self) -> Any:
        # Pickle would copy the parameters apart from the network they are views into,
        # and the unpickled optimizer would then update arrays nothing else reads.
        raise TypeError(
            f"a {type(self).__name__} cannot be pickled or deep-copied: it updates its "
            "network's arrays in place. Keep optimizer.state_dict() instead, and "
            "load_state_dict() it into an optimizer built over the restored network."
        )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({args})"


def _arrays(params: Any) -> list[Array]:
    """``params`` as a list of arrays, or a ``TypeError`` saying what to pass."""
    given = type(params).__name__
    if hasattr(params, "parameters"):
        raise TypeError(
            f"params must be a list of arrays: pass {given}.parameters(), not the {given}"
        )
    arrays = list(params) if isinstance(params, Sequence | Iterator) else None
    if arrays is None or not all(isinstance(p, np.ndarray) for p in arrays):
        raise TypeError(f"params must be a list of arrays, such as net.parameters(); got {given}")
    return arrays


def _hyperparameter(name: str, value: Any, *, below_one: bool = False) -> float:
    """``value``, a finite number ``>= 0`` (and ``< 1`` where ``below_one``), as
    ``torch.optim`` checks its hyperparameters (it also takes an infinite one); else a
    ``ValueError`` naming it."""
    number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (number and 0 <= value < (1 if below_one else math.inf)):
        interval = "[0, 1)" if below_one else "a finite number >= 0"
        raise ValueError(f"{name} must be {interval}; got {value!r}")
    return float(value)


class SGD(Optimizer):
    r"""Stochastic gradient descent, as ``torch.optim.SGD``.

    For each parameter ``p`` with gradient ``g`` at step ``t``::

        g ← g + λ p                                  (weight_decay λ)
        if μ ≠ 0:
            b ← g                      if t = 1
            b ← μ b + (1 - τ) g        otherwise     (momentum μ, dampening τ)
            g ← g + μ b                if nesterov
            g ← b                      otherwise
        p ← p - γ g                                  (lr γ)

    With ``momentum=0`` this is the walk-through's ``params - lr * grad``.
    """

    def __init__(
        self,
        params: Sequence[Array],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        for name, value in (
            ("lr", lr),
            ("momentum", momentum),
            ("dampening", dampening),
            ("weight_decay", weight_decay),
        ):
            _hyperparameter(name, value)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov momentum requires momentum > 0 and dampening = 0")
        super().__init__(
            params,
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
        )
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.state = self._new_state("b") if momentum else [{} for _ in self.params]

    def _states(self) -> list[dict[str, Array]]:
        return self.state

    def _step(self, p: Array, g: Array, tmp: Array, state: dict[str, Array]) -> None:
        mu, lam = self.momentum, self.weight_decay
        if lam:
            np.multiply(p, lam, out=tmp)
            tmp += g
            g = tmp
        if mu:
            b = state["b"]
            if self.t == 1:
                np.copyto(b, g)
            else:
                b *= mu
                b += (1 - self.dampening) * g
            g = np.add(g, mu * b, out=tmp) if self.nesterov else b
        np.multiply(g, -self.lr, tmp)
        p += tmp


class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam`` (``amsgrad=False``).

    For each parameter ``p`` with gradient ``g`` at step ``t``::

        g ← g + λ p                                  (weight_decay λ)
        m ← m + (1 - β₁)(g - m)                      (= β₁ m + (1 - β₁) g)
        v ← β₂ v + (1 - β₂) g²
        p ← p - (γ / (1 - β₁ᵗ)) · m / (√v / √(1 - β₂ᵗ) + ε)

    The bias corrections are applied as torch applies them: to the step size and
    to ``√v``, with ``ε`` added after the correction.
    """

    def __init__(
        self,
        params: Sequence[Array],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        for name, value in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)):
            _hyperparameter(name, value)
        if not isinstance(betas, Sequence) or isinstance(betas, str) or len(betas) != 2:
            raise ValueError(
                f"betas must be a pair (beta1, beta2), such as (0.9, 0.999); got {betas!r}"
            )
        beta1, beta2 = (
            _hyperparameter(f"betas[{i}]", b, below_one=True) for i, b in enumerate(betas)
        )
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.eps, self.weight_decay = eps, weight_decay
        self.state = self._new_state("m", "v")

    def _states(self) -> list[dict[str, Array]]:
        return self.state

    def _step(self, p: Array, g: Array, tmp: Array, state: dict[str, Array]) -> None:
        m, v = state["m"], state["v"]
        beta1, beta2 = self.beta1, self.beta2
        if self.weight_decay:
            # Into _g, the optimizer's own buffer (g itself when gathered), never the caller's.
            g = np.add(g, np.multiply(p, self.weight_decay, out=tmp), out=self._g)
        np.subtract(g, m, tmp)
        tmp *= 1 - beta1
        m += tmp
        v *= beta2
        np.multiply(g, g, tmp)
        tmp *= 1 - beta2
        v += tmp
        step_size = self.lr / (1 - beta1**self.t)
        np.sqrt(v, tmp)
        tmp /= math.sqrt(1 - beta2**self.t)
        tmp += self.eps
        np.divide(m, tmp, tmp)
        tmp *= -step_size
        p += tmp


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam}
