"""The torch backend's :class:`~gradfit.engine.Stepper`: autograd does the backward."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from gradfit.defaults import PRECISIONS
from gradfit.engine.batches import Rows
from gradfit.engine.losses import Loss, head_width
from gradfit.engine.types import Array
from gradfit.errors import DataError
from gradfit.torch_backend.losses import torch_loss
from gradfit.torch_backend.optim import load_numpy_state, state_to_numpy, steps_taken


def check_precision(precision: str, dtype: torch.dtype) -> str:
    """``precision`` if it is one of :data:`PRECISIONS` and fits parameters of ``dtype``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision == "bf16-mixed" and dtype != torch.float32:
        raise ValueError(
            f"precision='bf16-mixed' keeps float32 master weights; the parameters are "
            f"{str(dtype).removeprefix('torch.')}: use dtype float32"
        )
    return precision


class TorchParameters:
    """What the torch steppers share: ``params`` (the module's parameters, in the
    engine's order), a torch ``optimizer`` over them and its step count ``t``."""

    params: list[torch.nn.Parameter]
    optimizer: torch.optim.Optimizer
    t: int
    _views: list[Array] | None = None
    _views_of: list[int] | None = None

    def _cpu_views(self) -> list[Array] | None:
        """NumPy views of the parameters when all are on the CPU, else ``None``.

        Made once and kept while the parameters keep their storage: NumPy then copies
        and checks the walk-through's tiny parameters in a fraction of torch's time.
        """
        pointers = [p.data_ptr() for p in self.params]
        if self._views_of != pointers:
            on_cpu = all(p.device.type == "cpu" for p in self.params)
            self._views = [p.detach().numpy() for p in self.params] if on_cpu else None
            self._views_of = pointers
        return self._views

    def get_parameters(self, out: list[Array] | None = None) -> list[Array]:
        """Copies of ``[W1, b1, …]`` as NumPy arrays; into ``out`` when given, which must
        be an earlier return value (its arrays are overwritten)."""
        views = self._cpu_views()
        if out is None:
            if views is None:
                return [p.detach().cpu().numpy() for p in self.params]
            return [v.copy() for v in views]
        for i, (copy, p) in enumerate(zip(out, self.params, strict=True)):
            if views is None:
                torch.from_numpy(copy).copy_(p.detach())
            else:
                np.copyto(copy, views[i])
        return out

    def parameters_finite(self) -> bool:
        """Whether every parameter is finite (no NaN or infinity)."""
        views = self._cpu_views()
        if views is not None:
            return all(np.isfinite(v).all() for v in views)
        with torch.no_grad():
            return bool(torch.cat([p.reshape(-1) for p in self.params]).isfinite().all())

    def set_parameters(self, params: Sequence[Array]) -> None:
        """Overwrite the parameters with ``params`` (NumPy arrays, in the same order)."""
        if len(params) != len(self.params):
            raise ValueError(f"expected {len(self.params)} parameter arrays, got {len(params)}")
        with torch.no_grad():
            for i, (p, new) in enumerate(zip(self.params, params, strict=True)):
                if tuple(np.shape(new)) != tuple(p.shape):
                    raise ValueError(
                        f"parameter {i}: expected shape {tuple(p.shape)}, got {np.shape(new)}"
                    )
                p.copy_(torch.as_tensor(np.asarray(new), dtype=p.dtype, device=p.device))

    def optimizer_state(self) -> dict[str, Any]:
        """The optimizer's step count and buffers, as the engine's ``state_dict()``."""
        return state_to_numpy(self.optimizer, self.t)

    def load_optimizer_state(self, state: dict[str, Any]) -> None:
        """Restore an engine-format state (from either backend)."""
        self.t = load_numpy_state(self.optimizer, state)


class TorchStepper(TorchParameters):
    """A torch module, its data, a loss and an optimizer, stepped by the engine's ``Trainer``.

    Parameters
    ----------
    module : torch.nn.Module
        The model; its parameters' dtype and device are those of the data.
    X : (n_samples, n_in) array
    Y : (n_samples, n_out) array
        Copied once to the module's device and dtype.
    loss : Loss
        One of the engine's losses; torch computes it with its own function
        (:func:`~gradfit.torch_backend.losses.torch_loss`). A module whose output has a
        leading axis of ``K`` members (a
        :class:`~gradfit.torch_backend.ensemble.StackedMLP`) is trained on the sum of
        its members' losses and reports their mean, as the engine's
        :class:`~gradfit.engine.EnsembleStepper` does.
    optimizer : torch.optim.Optimizer
        Built over ``module.parameters()``, e.g. by :func:`make_optimizer`.
    device : str or torch.device, optional
        Move ``module`` there first; by default it stays where it is.
    precision : {"full", "bf16-mixed"}
        See :data:`~gradfit.defaults.PRECISIONS`; ``bf16-mixed`` needs float32 parameters.
    member_rows : (K, n_train) array of int, optional
        For stacked members, the rows each trains on, as the engine's
        :class:`~gradfit.engine.EnsembleStepper` takes them.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        X: Array,
        Y: Array,
        *,
        loss: Loss,
        optimizer: torch.optim.Optimizer,
        device: Any = None,
        precision: str = "full",
        member_rows: Array | None = None,
    ) -> None:
        from gradfit.torch_backend.mapping import resolve_device

        if device is not None:
            module.to(resolve_device(device))
        self.module, self.loss, self.optimizer = module, loss, optimizer
        self.params = list(module.parameters())
        if not self.params:
            raise ValueError(f"{type(module).__name__} has no parameters to train")
        self.dtype, self.device = self.params[0].dtype, self.params[0].device
        self.precision = check_precision(precision, self.dtype)
        self.X, self.Y = self._tensor(X), self._tensor(Y)
        self.member_rows = None
        if member_rows is not None:
            self.member_rows = torch.as_tensor(member_rows, device=self.device)
        self.n_samples = int(self.X.shape[0] if member_rows is None else member_rows.shape[1])
        self.t = steps_taken(optimizer)
        self._loss_fn = torch_loss(loss, dtype=self.dtype, device=self.device)

    def _tensor(self, A: Array) -> torch.Tensor:
        return torch.as_tensor(np.asarray(A), dtype=self.dtype, device=self.device)

    def _loss(self, X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
        """``(objective, loss, K)``: for ``K`` stacked members the sum of their losses and
        the loss over their stacked predictions; for one network, its loss twice and 1."""
        if self.precision == "bf16-mixed":
            with torch.autocast(self.device.type, dtype=torch.bfloat16):
                Y_hat = self.module(X)
            Y_hat = Y_hat.float()  # the loss in float32
        else:
            Y_hat = self.module(X)
        width = head_width(self.loss, Y.shape[-1])
        if Y_hat.shape[-2:] != (Y.shape[-2], width) or Y_hat.ndim > 3 or Y.ndim > Y_hat.ndim:
            raise DataError(
                f"predictions have shape {tuple(Y_hat.shape)} but targets have shape "
                f"{tuple(Y.shape)}; reshape the targets to (n_samples, n_outputs)"
            )
        if Y_hat.ndim == 2:
            value = self._loss_fn(Y_hat, Y)
            return value, value, 1
        K = Y_hat.shape[0]
        value = self._loss_fn(Y_hat, Y.expand(K, *Y.shape[-2:]))
        k = self.loss.members_factor(K)
        return (value * k if k != 1 else value), value, K

    def step(self, rows: Rows) -> float:
        """Forward, backward and update on ``rows``; return the loss before the update."""
        if self.member_rows is not None:
            index = self.member_rows
            if isinstance(rows, slice):
                index = index[:, rows]
            elif rows is not None:
                index = index[:, torch.as_tensor(rows, device=self.device)]
            X, Y = self.X[index], self.Y[index]
        elif rows is None:
            X, Y = self.X, self.Y
        elif isinstance(rows, slice):
            X, Y = self.X[rows], self.Y[rows]
        else:
            index = torch.as_tensor(rows, device=self.device)
            X, Y = self.X[index], self.Y[index]
        self.optimizer.zero_grad()
        objective, value, K = self._loss(X, Y)
        objective.backward()  # type: ignore[no-untyped-call]
        self.optimizer.step()
        self.t += 1
        return self.loss.members_mean(float(value.item()), K)

    def evaluate(self, X: Array, Y: Array) -> float:
        """The loss on ``(X, Y)`` at the current parameters, without updating."""
        with torch.no_grad():
            _, value, K = self._loss(self._tensor(X), self._tensor(Y))
            return self.loss.members_mean(float(value.item()), K)
