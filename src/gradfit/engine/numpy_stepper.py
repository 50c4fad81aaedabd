"""The NumPy engine's :class:`~gradfit.engine.Stepper`."""

from __future__ import annotations

import numpy as np

from gradfit.engine.batches import Rows
from gradfit.engine.losses import Loss
from gradfit.engine.network import MLP
from gradfit.engine.optim import Optimizer
from gradfit.engine.stepper import EngineStepper
from gradfit.engine.types import Array
from gradfit.engine.workspace import Workspace


class NumpyStepper(EngineStepper):
    """The engine's :class:`Stepper`: an :class:`MLP`, its data, a loss and an optimizer.

    A step is :meth:`MLP.forward`, the loss and :meth:`MLP.parameter_gradients` (the
    layers' own chain rule, without the gradient of the data), then the optimizer's
    update. Every batch-sized array lives in a
    :class:`~gradfit.engine.workspace.Workspace` reused from step to step, and the first
    layer takes the data as ``[X 1]``, its bias folded into one product
    (:meth:`Dense.forward <gradfit.engine.Dense.forward>`).

    With one hidden layer and one output (the walk-through's 1-64-1) the last step of
    that chain rule is associated differently: ``dL/dZ₁ = (g w₂) ⊙ F`` for ``g = dL/dŶ``,
    the row ``w₂ = W₂`` and ``F = f'(Z₁)``, so the first layer's
    ``[dW₁ db₁]ᵀ = [X 1]ᵀ dL/dZ₁ = ((g ⊙ [X 1])ᵀ F) ⊙ w₂`` without the ``(n, hidden)``
    matrix ``dL/dZ₁``, whose two passes cost that step a tenth of its time.

    Parameters
    ----------
    net : MLP
    X : (n_samples, n_in) array
    Y : (n_samples, n_out) array
        Both are taken in the network's dtype.
    loss : Loss
    optimizer : Optimizer
        Built over ``net.parameters()``.
    """

    def __init__(self, net: MLP, X: Array, Y: Array, loss: Loss, optimizer: Optimizer) -> None:
        self.net, self.loss, self.optimizer = net, loss, optimizer
        self.X, self.Y = np.asarray(X, net.dtype), np.asarray(Y, net.dtype)
        self.n_samples = X.shape[0]
        self._grads = net.gradients()
        self._workspace = Workspace(net.sizes, net.dtype)
        self._rank_one = len(net.dense) == 2 and net.sizes[-1] == 1
        self._gX1 = np.empty((0, net.sizes[0] + 1), net.dtype)

    def step(self, rows: Rows) -> float:
        net = self.net
        X1, Z, G = self._workspace.batch(self.X, rows)
        Y = self.Y if rows is None else self.Y[rows]
        value, dY = self.loss.value_and_gradient(net.forward(X1, Z), Y, out=Z[-1])
        if self._rank_one:
            self._rank_one_gradients(dY, X1)
        else:
            net.parameter_gradients(dY, G)
        self.optimizer.step(self._grads)
        return value

    def _rank_one_gradients(self, g: Array, X1: Array) -> None:
        """:meth:`MLP.parameter_gradients` of a 1-hidden-layer, 1-output network from
        ``g = dL/dŶ: (n, 1)`` after a forward of ``X1 = [X 1]``, as the class says."""
        first, second = self.net.dense
        second.parameter_gradients(g)
        if self._gX1.shape[0] < X1.shape[0]:
            self._gX1 = np.empty_like(X1)
        gX1 = np.multiply(X1, g, self._gX1[: X1.shape[0]])
        dWbT = np.dot(gX1.T, self.net.activations[0].derivative(), first.joint()[1])
        dWbT *= second.W
        first.store_joint_gradient(dWbT)
