"""The NumPy engine's :class:`~gradfit.engine.Stepper`."""

from __future__ import annotations

import numpy as np

from gradfit.engine.batches import Rows
from gradfit.engine.losses import Loss
from gradfit.engine.network import MLP
from gradfit.engine.optim import Optimizer
from gradfit.engine.stepper import EngineStepper
from gradfit.engine.types import Array


class NumpyStepper(EngineStepper):
    """The engine's :class:`Stepper`: an :class:`MLP`, its data, a loss and an optimizer.

    A step is :meth:`MLP.forward` and :meth:`MLP.backward` written for speed, with the
    same gradients: every batch-sized array lives in a workspace reused from step to
    step; the first layer takes its bias as a column of ones, ``Z₁ = [X 1] [W₁ b₁]ᵀ``,
    so one product gives ``Z₁`` and one gives ``[dW₁ db₁]``; and no ``dL/dX`` of the
    data is formed. With one hidden layer and one output (the walk-through's 1-64-1),
    ``dL/dZ₁ = (g w₂) ⊙ F`` for ``g = dL/dŶ``, ``w₂ = W₂`` and ``F = f'(Z₁)``, so
    ``[dW₁ db₁] = diag(w₂) Fᵀ (g ⊙ [X 1])`` without the ``(n, hidden)`` matrix ``dL/dZ₁``.

    Parameters
    ----------
    net : MLP
    X : (n_samples, n_in) array
    Y : (n_samples, n_out) array
    loss : Loss
    optimizer : Optimizer
        Built over ``net.parameters()``.
    """

    def __init__(self, net: MLP, X: Array, Y: Array, loss: Loss, optimizer: Optimizer) -> None:
        self.net, self.X, self.Y = net, X, Y
        self.loss, self.optimizer = loss, optimizer
        self.n_samples = X.shape[0]
        self._grads = net.gradients()
        hidden, n_in = net.dense[0].W.shape
        # [W₁ b₁]ᵀ and [dW₁ db₁]ᵀ, (n_in + 1, hidden): with one input, W₁ and b₁ (and dW₁
        # and db₁) lie one after the other at the start of the network's flat buffers,
        # and are those matrices already; otherwise they are copied in and out.
        self._in_place = n_in == 1
        if self._in_place:
            self._WbT = net.flat[: 2 * hidden].reshape(2, hidden)
            self._dWbT = net.flat_grad[: 2 * hidden].reshape(2, hidden)
        else:
            self._WbT = np.empty((n_in + 1, hidden), net.dtype)
            self._dWbT = np.empty_like(self._WbT)
        self._rank_one = len(net.dense) == 2 and net.sizes[-1] == 1
        self._rows = 0
        self._views: tuple[int, list[Array], list[Array]] = (-1, [], [])
        self._full_batch_ready = False

    def _workspace(self, n: int) -> tuple[list[Array], list[Array]]:
        """Each layer's ``Z`` (then ``A``, in place), ``(n, n_out)``, and the gradient for
        each input but the first layer's, ``(n, n_in)``; allocated for at least ``n``
        rows, with ``_X1`` for the rows ``[X 1]`` (and ``_gX1`` for ``g ⊙ [X 1]``).

        Reused from step to step: a step then allocates no batch-sized array, each of
        which would cost the operating system's page faults afresh.
        """
        if n > self._rows:
            dtype, dense = self.net.dtype, self.net.dense
            self._X1 = np.ones((n, dense[0].W.shape[1] + 1), dtype)
            self._gX1 = np.empty_like(self._X1) if self._rank_one else self._X1[:0]
            self._Z = [np.empty((n, d.W.shape[0]), dtype) for d in dense]
            self._G = [np.empty((n, d.W.shape[1]), dtype) for d in dense[1:]]
            self._rows, self._full_batch_ready = n, False
            self._views = (-1, [], [])
        if self._views[0] != n:
            self._views = (n, [Z[:n] for Z in self._Z], [G[:n] for G in self._G])
        return self._views[1], self._views[2]

    def _batch(self, rows: Rows) -> tuple[Array, Array, list[Array], list[Array]]:
        """``[X 1]`` and ``Y`` of ``rows``, and the workspace for them (the full batch's
        ``[X 1]`` is filled once)."""
        if rows is None:
            n = self.n_samples
            Zs, Gs = self._workspace(n)
            if not self._full_batch_ready:
                self._X1[:n, :-1] = self.X
                self._full_batch_ready = True
            return self._X1[:n], self.Y, Zs, Gs
        X, Y = self.X[rows], self.Y[rows]
        Zs, Gs = self._workspace(len(X))
        self._full_batch_ready = False
        X1 = self._X1[: len(X)]
        X1[:, :-1] = X
        return X1, Y, Zs, Gs

    def step(self, rows: Rows) -> float:
        X1, Y, Zs, Gs = self._batch(rows)
        net, WbT, dWbT = self.net, self._WbT, self._dWbT
        dense, f = net.dense, net.activations
        if not self._in_place:
            WbT[:-1], WbT[-1] = dense[0].W.T, dense[0].b
        A = f[0].forward(np.matmul(X1, WbT, out=Zs[0]), out=Zs[0])
        for i in range(1, len(dense)):
            A = f[i].forward(dense[i].forward(A, out=Zs[i]), out=Zs[i])
        value, G = self.loss.value_and_gradient(A, Y, out=A)
        G = f[-1].backward(G, out=G)
        if self._rank_one:
            dense[1].parameter_gradients(G)
            gX1 = np.multiply(X1, G, out=self._gX1[: X1.shape[0]])
            np.matmul(gX1.T, f[0].derivative(), out=dWbT)
            dWbT *= dense[1].W
        else:
            for i in range(len(dense) - 1, 0, -1):
                G = f[i - 1].backward(dense[i].backward(G, out=Gs[i - 1]), out=Gs[i - 1])
            np.matmul(X1.T, G, out=dWbT)
        if not self._in_place:
            dense[0].dW[...], dense[0].db[...] = dWbT[:-1].T, dWbT[-1]
        self.optimizer.step(self._grads)
        return value
