"""The walk-through's models trained on both backends from the same start, in float64.

Each pair shares its initial parameters, data and optimizer settings; only the
gradient differs in how it is computed (hand-derived backprop versus autograd).
"""

from __future__ import annotations

from dataclasses import dataclass

from gradfit import engine
from gradfit.datasets import scale
from gradfit.demo import torch_part
from gradfit.demo.problems import generators, problems
from gradfit.engine.history import History
from gradfit.engine.network import MLP
from gradfit.engine.types import Array
from gradfit.plotting import max_parameter_difference


@dataclass(frozen=True)
class Parity:
    """One model trained by the engine and by torch.

    Attributes
    ----------
    name : str
    x, y : (n,) arrays
        The training data.
    numpy_net, torch_net : MLP
        The trained networks (torch's copied back into the engine's format).
    numpy_history, torch_history : History
        Losses and every epoch's parameters.
    """

    name: str
    x: Array
    y: Array
    numpy_net: MLP
    torch_net: MLP
    numpy_history: History
    torch_history: History

    @property
    def max_difference(self) -> Array:
        """``max |θ_numpy - θ_torch|`` after each epoch, ``(epochs + 1,)``."""
        return max_parameter_difference(self.numpy_history, self.torch_history)


def linear_layer(seed: int) -> Parity:
    """nn.Linear(1, 1), sum of squares, the hand-written update against the engine's SGD."""
    data = problems(seed)
    x, _ = scale(data.linear.x_train)
    y, _ = scale(data.linear.y_train)
    net = MLP([1, 1], "identity", rng=generators(seed)["linear layer init"])
    return _both(
        "nn.Linear(1, 1), hand-written update",
        net,
        x,
        y,
        optimizers=(engine.SGD, "manual"),
        lr=torch_part.LINEAR_LR,
        epochs=torch_part.LINEAR_EPOCHS,
        loss="sse",
    )


def relu_network(seed: int) -> Parity:
    """The 1-64-1 ReLU network, Adam at lr 0.1, mean squared error, on the sine points."""
    sine = problems(seed).sine
    net = MLP(torch_part.NETWORK_SIZES, "relu", rng=generators(seed)["network init"])
    return _both(
        "1-64-1 ReLU network, Adam",
        net,
        sine.x_train,
        sine.y_train,
        optimizers=(engine.Adam, "adam"),
        lr=torch_part.NETWORK_LR,
        epochs=torch_part.NETWORK_EPOCHS,
        loss="mse",
    )


def _both(
    name: str,
    net: MLP,
    x: Array,
    y: Array,
    *,
    optimizers: tuple[type[engine.Optimizer], str],
    lr: float,
    epochs: int,
    loss: str,
) -> Parity:
    """Train ``net`` with the engine and a copy of it with torch, recording every epoch."""
    from gradfit import torch_backend

    X, Y = x.reshape(-1, 1), y.reshape(-1, 1)
    twin = net.copy()
    engine_optimizer, torch_optimizer = optimizers
    h_np = engine.train(
        net,
        X,
        Y,
        optimizer=engine_optimizer(net.parameters(), lr=lr),
        epochs=epochs,
        loss=loss,
        record_parameters=True,
        log_every=None,
    )
    h_t = torch_backend.train(
        twin,
        X,
        Y,
        optimizer=torch_optimizer,
        lr=lr,
        epochs=epochs,
        loss=loss,
        record_parameters=True,
        log_every=None,
    )
    return Parity(name, x, y, net, twin, h_np, h_t)
