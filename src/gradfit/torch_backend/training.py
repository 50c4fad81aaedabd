"""``train`` for the torch backend: the engine's :class:`Trainer` around a :class:`TorchStepper`.

The loop, the shuffling, the history, the log lines and the handling of divergence are
the engine's own, so both backends given the same seed see the same batches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from gradfit.engine.history import History
from gradfit.engine.losses import Loss, get_loss
from gradfit.engine.network import MLP
from gradfit.engine.training import Callback, Trainer
from gradfit.engine.types import DTYPES, Array
from gradfit.engine.validation import check_training_data
from gradfit.torch_backend.convert import to_torch
from gradfit.torch_backend.mapping import NUMPY_DTYPES, resolve_device
from gradfit.torch_backend.optim import make_optimizer
from gradfit.torch_backend.stepper import TorchStepper

OptimizerSpec = str | torch.optim.Optimizer | Callable[[Any], torch.optim.Optimizer]


def train(
    net_or_module: MLP | torch.nn.Module,
    X: Array,
    Y: Array,
    *,
    optimizer: OptimizerSpec,
    epochs: int,
    loss: str | Loss = "mse",
    batch_size: int | None = None,
    shuffle: bool = True,
    rng: np.random.Generator | None = None,
    validation: tuple[Array, Array] | None = None,
    record_parameters: bool = False,
    log_every: int | None = None,
    log: Callable[[str], None] = print,
    callbacks: Sequence[Callback] = (),
    device: Any = None,
    precision: str = "full",
    **hyper: Any,
) -> History:
    """Train with autograd, as :func:`gradfit.engine.train` trains with backprop.

    Parameters
    ----------
    net_or_module : MLP or torch.nn.Module
        An engine network is copied to torch with :func:`to_torch`, trained there, and
        its trained parameters copied back (also when training stops with an error).
        A module is trained in place.
    X : (n_samples, n_in) array
    Y : (n_samples,) or (n_samples, n_out) array
    optimizer : str, torch.optim.Optimizer or callable
        ``"manual"`` (the walk-through's hand-written update), ``"sgd"`` or ``"adam"``
        with ``**hyper`` (see :func:`make_optimizer`); a torch optimizer already built
        over the module's parameters; or a function ``params → optimizer``.
    epochs, loss, batch_size, shuffle, rng, validation, record_parameters, log_every, log, \
callbacks
        As :func:`gradfit.engine.train`.
    device : str or torch.device, optional
        Where to train; CPU by default (an ``MLP``), or the module's own device.
    precision : {"full", "bf16-mixed"}
        ``bf16-mixed`` computes the forward and backward in bfloat16 under
        ``torch.autocast``, on the CPU or CUDA, with float32 parameters, optimizer and
        loss (see :data:`~gradfit.defaults.PRECISIONS`).
    **hyper
        The optimizer's hyperparameters when ``optimizer`` is a name, e.g. ``lr=0.1``.

    Returns
    -------
    History
        The same record the engine's ``train`` returns.

    Raises
    ------
    DivergenceError
        When the loss or a parameter becomes non-finite; the model then holds the
        parameters of the last finite epoch.
    """
    net = net_or_module if isinstance(net_or_module, MLP) else None
    if net is not None:
        module: torch.nn.Module = to_torch(net, device)
    else:
        module = net_or_module  # type: ignore[assignment]
        if device is not None:
            module.to(resolve_device(device))
    params = list(module.parameters())
    if not params:
        raise ValueError(f"{type(module).__name__} has no parameters to train")
    dtype = NUMPY_DTYPES.get(params[0].dtype)
    if dtype is None:
        raise ValueError(f"parameters must be {' or '.join(DTYPES)}, got {params[0].dtype}")
    X, Y = check_training_data(X, Y, dtype=dtype, n_features=_n_inputs(module))
    if validation is not None:
        validation = check_training_data(*validation, dtype=dtype, n_features=_n_inputs(module))
    stepper = TorchStepper(
        module,
        X,
        Y,
        loss=get_loss(loss),
        optimizer=_optimizer(optimizer, params, hyper),
        precision=precision,
    )
    trainer = Trainer(
        stepper,
        batch_size=batch_size,
        shuffle=shuffle,
        rng=np.random.default_rng() if rng is None else rng,
        validation=validation,
        record_parameters=record_parameters,
        log_every=log_every,
        log=log,
        callbacks=callbacks,
    )
    try:
        return trainer.fit(epochs)
    finally:
        if net is not None:
            net.set_parameters(stepper.get_parameters())


def _optimizer(
    spec: OptimizerSpec, params: list[torch.nn.Parameter], hyper: dict[str, Any]
) -> torch.optim.Optimizer:
    if isinstance(spec, str):
        return make_optimizer(spec, params, **hyper)
    if hyper:
        raise TypeError(
            f"hyperparameters {', '.join(sorted(hyper))} apply only when optimizer is a name"
        )
    if isinstance(spec, torch.optim.Optimizer):
        own = {id(p) for group in spec.param_groups for p in group["params"]}
        if own != {id(p) for p in params}:
            raise ValueError(
                "the optimizer was not built over this model's parameters; pass its name "
                "(e.g. optimizer='adam', lr=0.1) when training an MLP"
            )
        return spec
    return spec(params)


def _n_inputs(module: torch.nn.Module) -> int | None:
    """The input width of the first ``Linear`` in ``module``, when it starts with one."""
    first = next(iter(module.modules()))
    while isinstance(first, torch.nn.Sequential) and len(first):
        first = first[0]
    return first.in_features if isinstance(first, torch.nn.Linear) else None
