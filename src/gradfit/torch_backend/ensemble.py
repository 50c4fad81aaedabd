"""An :class:`~gradfit.engine.ensemble.Ensemble` as a torch module: stacked members."""

from __future__ import annotations

from typing import Any

import torch

from gradfit.engine.ensemble import Ensemble
from gradfit.torch_backend.mapping import ACTIVATION_MODULES, TORCH_DTYPES, resolve_device


class StackedMLP(torch.nn.Module):
    """``K`` MLPs of one shape with stacked parameters, ``W: (K, n_out, n_in)``.

    ``forward(X)`` maps ``X: (n_samples, n_in)`` to ``(K, n_samples, n_out)`` with one
    batched ``matmul`` per layer, as the engine's :class:`Ensemble`. The parameters
    are in the engine's order ``[W1, b1, W2, b2, …]``.
    """

    def __init__(self, net: Ensemble, device: Any = None) -> None:
        super().__init__()
        dev, dtype = resolve_device(device), TORCH_DTYPES[net.dtype]
        self.weights = torch.nn.ParameterList()
        for p in net.parameters():
            self.weights.append(torch.nn.Parameter(torch.tensor(p, dtype=dtype, device=dev)))
        self.activation = ACTIVATION_MODULES[net.activation]()
        self.sizes, self.activation_name = list(net.sizes), net.activation

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        A = X
        n_layers = len(self.weights) // 2
        for i in range(n_layers):
            W, b = self.weights[2 * i], self.weights[2 * i + 1]
            A = torch.matmul(A, W.transpose(-1, -2)) + b.unsqueeze(-2)
            if i < n_layers - 1:
                A = self.activation(A)
        return A

    def to_engine(self) -> Ensemble:
        """The engine's :class:`Ensemble` with this module's parameters (copied)."""
        params = [p.detach().cpu().numpy().copy() for p in self.weights]
        return Ensemble.from_parameters(self.sizes, self.activation_name, params)
