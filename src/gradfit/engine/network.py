"""The multilayer perceptron: dense layers with an activation between them."""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit.engine.activations import Activation, Identity, get_activation
from gradfit.engine.flat import split_flat
from gradfit.engine.layers import Dense
from gradfit.engine.types import Array, check_dtype


class MLP:
    """A feed-forward network ``Dense → f → Dense → f → … → Dense``.

    The output layer has no activation (identity), as a regression network.

    The parameters ``[W1, b1, W2, b2, …]`` are views of one flat array, ``flat``, laid
    end to end in that order, and the gradients likewise of ``flat_grad``: an optimizer
    updates all of them with one operation each (see :class:`~gradfit.engine.Optimizer`).

    Parameters
    ----------
    sizes : sequence of int
        ``[n_in, *hidden, n_out]``; ``[n_in, n_out]`` is one linear layer.
    activation : str
        Activation between layers: ``identity``, ``relu``, ``tanh`` or ``sigmoid``.
    rng : numpy.random.Generator or None
        Source of the initial parameters (PyTorch's default init, layer by layer); ``None``
        for zeros, drawing nothing (for parameters set afterwards).
    dtype : str or numpy dtype
        ``float32`` or ``float64``.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        *,
        rng: np.random.Generator | None,
        dtype: Any = np.float64,
    ) -> None:
        listed = isinstance(sizes, Sequence | np.ndarray) and not isinstance(sizes, str)
        integers = listed and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in sizes
        )
        if not integers:
            # int() would make 2.5 a layer of 2 units, and the string "241" three layers.
            raise ValueError(f"sizes must be [n_in, *hidden, n_out], integers; got {sizes!r}")
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"sizes must be [n_in, *hidden, n_out] with each >= 1, got {sizes}")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy.random.Generator (numpy.random.default_rng({rng!r})) "
                f"or None; got {type(rng).__name__}"
            )
        self.dtype = check_dtype(dtype)
        self.sizes = sizes
        self.activation = activation
        self.dense = self._draw(rng)
        self.activations: list[Activation] = [get_activation(activation) for _ in sizes[2:]]
        self.activations.append(Identity())
        self._lay_flat()

    def _draw(self, rng: np.random.Generator | None) -> list[Dense]:
        """The layers, drawn from ``rng`` one after another (``None``: zeros)."""
        return [
            Dense(n_in, n_out, rng=rng, dtype=self.dtype.type)
            for n_in, n_out in itertools.pairwise(self.sizes)
        ]

    def _lay_flat(self) -> None:
        """Move every layer's ``W``, ``b``, ``dW`` and ``db`` into views of ``flat`` and
        ``flat_grad``, keeping their values."""
        params, grads = self.parameters(), self.gradients()
        self.flat: Array = np.concatenate([p.reshape(-1) for p in params])
        self.flat_grad: Array = np.concatenate([g.reshape(-1) for g in grads])
        views, grad_views = split_flat(self.flat, params), split_flat(self.flat_grad, grads)
        for i, d in enumerate(self.dense):
            d.W, d.b = views[2 * i], views[2 * i + 1]
            d.dW, d.db = grad_views[2 * i], grad_views[2 * i + 1]

    def __getstate__(self) -> dict[str, Any]:
        # Pickle keeps no views: the layers' arrays travel alone and are laid flat again.
        state = self.__dict__.copy()
        del state["flat"], state["flat_grad"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lay_flat()

    @property
    def spec(self) -> dict[str, Any]:
        """What rebuilds this network: ``sizes``, ``activation`` and ``dtype``."""
        return {"sizes": list(self.sizes), "activation": self.activation, "dtype": self.dtype.name}

    def forward(self, X: Array, out: Sequence[Array | None] | None = None) -> Array:
        """``X: (n_samples, n_in)`` → predictions ``(n_samples, n_out)``.

        ``out``, if given, holds one ``(n_samples, n_out)`` array per layer (a
        :class:`~gradfit.engine.workspace.Workspace`'s ``Z``), into which that layer's
        ``Z`` and then its activation ``A = f(Z)`` are written.
        """
        if out is None:  # a caller's X; a workspace's is [X 1], with out
            X = self._checked(X)
        A = X
        outs = out or [None] * len(self.dense)
        for dense, f, Z in zip(self.dense, self.activations, outs, strict=True):
            A = f.forward(dense.forward(A, Z), Z)
        return A

    def _checked(self, X: Any) -> Array:
        """``X`` as an array of ``n_in`` columns: ``n_in + 1`` would pass for the data with
        a column of ones that :meth:`Dense.forward` also takes, its last column for ones."""
        X = X if isinstance(X, np.ndarray) else np.asarray(X, self.dtype)
        if X.ndim == 0 or X.shape[-1] != self.sizes[0]:
            raise ValueError(
                f"X has {X.shape[-1] if X.ndim else 0} column(s) (shape {X.shape}), but the "
                f"network takes {self.sizes[0]} input(s): give X of shape (n_samples, "
                f"{self.sizes[0]})"
            )
        return X

    def backward(self, G: Array, out: Sequence[Array | None] | None = None) -> Array:
        """Backpropagate ``G = dL/dŶ: (n_samples, n_out)`` from the last :meth:`forward`.

        Fills every layer's ``dW`` and ``db`` (overwriting, not accumulating) and
        returns ``dL/dX: (n_samples, n_in)``. ``out``, if given, holds one array per
        layer for the gradient of that layer's input, ``(n_samples, n_in)`` (a
        :class:`~gradfit.engine.workspace.Workspace`'s ``G``); ``None`` allocates.
        """
        outs = out or [None] * len(self.dense)
        return self.dense[0].backward(self._first_layer_gradient(G, outs), outs[0])

    def parameter_gradients(self, G: Array, out: Sequence[Array | None] | None = None) -> None:
        """:meth:`backward` without ``dL/dX``: for a stepper, whose input is data.

        ``out`` as :meth:`backward`'s, but ``out[0]``, where the data's gradient would go,
        may be an ``(n_samples, n_in + 1)`` scratch array when the forward took ``[X 1]``
        (a :class:`~gradfit.engine.workspace.Workspace` gives both). With one hidden layer
        and one output (the walk-through's 1-64-1), the first layer's gradient is then
        formed from its factors, ``dL/dZ₁ = (g w₂) ⊙ f'(Z₁)``
        (:meth:`Dense.factored_parameter_gradients
        <gradfit.engine.Dense.factored_parameter_gradients>`): the same chain rule,
        associated differently.
        """
        outs = out or [None] * len(self.dense)
        scratch = outs[0]
        if scratch is not None and len(self.dense) == 2 and self.sizes[-1] == 1:
            first, second = self.dense
            g = self.activations[1].backward(G)
            second.parameter_gradients(g)
            first.factored_parameter_gradients(
                g, second.W, self.activations[0].derivative(), scratch
            )
            return
        self.dense[0].parameter_gradients(self._first_layer_gradient(G, outs))

    def _first_layer_gradient(self, G: Array, out: Sequence[Array | None]) -> Array:
        """``dL/dZ₁`` from ``G = dL/dŶ``: every layer's and activation's chain rule in
        turn, down to the first layer's output."""
        dense, f = self.dense, self.activations
        G = f[-1].backward(G)
        for i in range(len(dense) - 1, 0, -1):
            G = f[i - 1].backward(dense[i].backward(G, out[i]), out[i])
        return G

    def parameters(self) -> list[Array]:
        """``[W1, b1, W2, b2, …]``: the live arrays (views of ``flat``), which optimizers
        update in place."""
        return [p for d in self.dense for p in (d.W, d.b)]

    def gradients(self) -> list[Array]:
        """``[dW1, db1, dW2, db2, …]`` from the last :meth:`backward`, in parameter order
        (views of ``flat_grad``)."""
        return [g for d in self.dense for g in (d.dW, d.db)]

    def set_parameters(self, params: Sequence[Array]) -> None:
        """Copy ``params`` (in :meth:`parameters` order) into the network's arrays."""
        own = self.parameters()
        if len(params) != len(own):
            raise ValueError(f"expected {len(own)} parameter arrays, got {len(params)}")
        for i, (p, new) in enumerate(zip(own, params, strict=True)):
            new = np.asarray(new)
            if new.shape != p.shape:
                raise ValueError(f"parameter {i}: expected shape {p.shape}, got {new.shape}")
            np.copyto(p, new, casting="same_kind")

    def copy(self) -> MLP:
        """An independent network with the same specification and parameter values."""
        return MLP.from_parameters(self.sizes, self.activation, self.parameters())

    @classmethod
    def from_parameters(cls, sizes: Sequence[int], activation: str, params: Sequence[Array]) -> MLP:
        """A network with the given ``[W1, b1, …]``; its dtype is that of ``params``."""
        dtype = np.asarray(params[0]).dtype if params else np.float64
        net = cls(sizes, activation, rng=None, dtype=dtype)
        net.set_parameters(params)
        return net

    @property
    def n_parameters(self) -> int:
        """The number of scalar parameters."""
        return sum(p.size for p in self.parameters())

    def __repr__(self) -> str:
        return f"MLP({self.sizes}, activation={self.activation!r}, dtype={self.dtype.name})"
