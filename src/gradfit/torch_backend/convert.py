"""Moving a network between the engine's :class:`MLP` and ``torch.nn``.

Both store a layer as PyTorch does (``W: (n_out, n_in)``, ``b: (n_out,)``), so the
conversion copies arrays one to one, keeping their dtype.
"""

from __future__ import annotations

from typing import Any

import torch

from gradfit.engine.ensemble import Ensemble
from gradfit.engine.network import MLP
from gradfit.engine.types import DTYPES
from gradfit.torch_backend.ensemble import StackedMLP
from gradfit.torch_backend.mapping import (
    ACTIVATION_MODULES,
    NUMPY_DTYPES,
    TORCH_DTYPES,
    resolve_device,
)

_ACTIVATION_NAMES = {cls: name for name, cls in ACTIVATION_MODULES.items()}


def to_torch(net: MLP, device: Any = None) -> torch.nn.Module:
    """A ``torch.nn.Sequential`` computing the same function as ``net``.

    ``Linear → activation → … → Linear``, with ``net``'s parameter values and dtype,
    on ``device`` (CPU by default). Torch's random number generator is not used.
    An :class:`~gradfit.engine.Ensemble` becomes a
    :class:`~gradfit.torch_backend.ensemble.StackedMLP`.
    """
    if isinstance(net, Ensemble):
        return StackedMLP(net, device)
    dev = resolve_device(device)
    dtype = TORCH_DTYPES[net.dtype]
    modules: list[torch.nn.Module] = []
    for i, dense in enumerate(net.dense):
        n_out, n_in = dense.W.shape
        # skip_init: the values are overwritten, so don't draw (and advance torch's RNG).
        linear = torch.nn.utils.skip_init(  # type: ignore[no-untyped-call]
            torch.nn.Linear, n_in, n_out, device=dev, dtype=dtype
        )
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(dense.W))
            linear.bias.copy_(torch.from_numpy(dense.b))
        modules.append(linear)
        if i < len(net.dense) - 1:
            modules.append(ACTIVATION_MODULES[net.activation]())
    return torch.nn.Sequential(*modules)


def from_torch(module: torch.nn.Module) -> MLP:
    """The engine's :class:`MLP` with the parameters of ``module`` (copied to NumPy).

    ``module`` is an ``nn.Linear`` or an ``nn.Sequential`` of ``Linear`` layers with
    biases, separated by one kind of activation (``Identity``, ``ReLU``, ``Tanh`` or
    ``Sigmoid``), ending in a ``Linear``; in ``float32`` or ``float64``.
    """
    layers = list(module) if isinstance(module, torch.nn.Sequential) else [module]
    linears = [m for m in layers[::2] if isinstance(m, torch.nn.Linear)]
    between = layers[1::2]
    if len(layers) % 2 == 0 or len(linears) != len(layers[::2]):
        raise ValueError(
            "from_torch needs nn.Linear layers alternating with activations, ending in "
            f"nn.Linear; got {module}"
        )
    kinds = {type(m) for m in between}
    if len(kinds) > 1 or not kinds <= set(_ACTIVATION_NAMES):
        known = ", ".join(cls.__name__ for cls in _ACTIVATION_NAMES)
        raise ValueError(
            f"from_torch needs one kind of activation between the layers ({known}); "
            f"got {', '.join(sorted(k.__name__ for k in kinds))}"
        )
    activation = _ACTIVATION_NAMES[kinds.pop()] if kinds else "identity"
    params = []
    for i, linear in enumerate(linears):
        if linear.bias is None:
            raise ValueError(f"layer {i} has no bias; gradfit's layers always have one")
        if linear.weight.dtype not in NUMPY_DTYPES:
            raise ValueError(f"parameters must be {' or '.join(DTYPES)}, got {linear.weight.dtype}")
        params += [linear.weight, linear.bias]
    sizes = [linears[0].in_features] + [linear.out_features for linear in linears]
    arrays = [p.detach().cpu().numpy().copy() for p in params]
    return MLP.from_parameters(sizes, activation, arrays)
