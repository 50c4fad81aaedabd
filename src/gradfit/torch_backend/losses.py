"""The engine's losses in torch: ``torch.nn.functional``'s own, with the same reduction."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch

from gradfit.engine.losses import MSE, SSE, BinaryCrossEntropy, CrossEntropy, GaussianNLL, Loss

TorchLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``loss(Ŷ, Y)``: a scalar tensor from outputs and targets of one shape."""


def torch_loss(loss: Loss, *, dtype: torch.dtype, device: torch.device) -> TorchLoss:
    """The torch function computing ``loss`` (its weights as tensors of ``dtype`` on ``device``),
    reduced as ``loss`` reduces (a mean, or a sum for a summed form such as
    :meth:`CrossEntropy.summed() <gradfit.engine.Loss.summed>`).

    ``mse``/``sse`` are ``mse_loss`` with ``reduction="mean"``/``"sum"``; ``cross_entropy``
    is ``cross_entropy`` (``CrossEntropyLoss``) with probability targets and its class
    weights, over the rows of every leading axis; ``binary_cross_entropy`` is
    ``binary_cross_entropy_with_logits`` (``BCEWithLogitsLoss``) with the weight
    ``c = w₀ (1 - Y) + w₁ Y`` of each element;
    ``gaussian_nll`` is ``gaussian_nll_loss`` (``GaussianNLLLoss``) of the means
    ``Ŷ[…, :m]`` with variances ``softplus(Ŷ[…, m:]) + min_variance``.
    """
    F = torch.nn.functional
    if isinstance(loss, MSE | SSE):
        return partial(F.mse_loss, reduction=loss.reduction)
    if isinstance(loss, GaussianNLL):
        min_variance = loss.min_variance

        def gaussian(Y_hat: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
            m = Y.shape[-1]
            var = F.softplus(Y_hat[..., m:]) + min_variance
            return F.gaussian_nll_loss(Y_hat[..., :m], Y, var)

        return gaussian
    if isinstance(loss, CrossEntropy):
        w = None if loss.weight is None else torch.tensor(loss.weight, dtype=dtype, device=device)

        def cross_entropy(Y_hat: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
            # Classes on the last axis: an ensemble's (K, n, k) logits are K·n rows.
            k = Y.shape[-1]
            return F.cross_entropy(
                Y_hat.reshape(-1, k), Y.reshape(-1, k), weight=w, reduction=loss.reduction
            )

        return cross_entropy
    if isinstance(loss, BinaryCrossEntropy):
        if loss.weight is None:
            return partial(F.binary_cross_entropy_with_logits, reduction=loss.reduction)
        w0, w1 = loss.weight

        def weighted(Y_hat: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
            c = w0 + (w1 - w0) * Y
            return F.binary_cross_entropy_with_logits(Y_hat, Y, weight=c, reduction=loss.reduction)

        return weighted
    raise ValueError(f"the torch backend has no counterpart of {loss!r}")
