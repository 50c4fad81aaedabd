"""The PyTorch backend: the engine's networks trained with autograd.

``to_torch``/``from_torch`` move a network between the engine and ``torch.nn``;
``TorchStepper`` plugs a torch module into the engine's ``Trainer``, so ``train``
here shuffles, records, logs and stops exactly as :func:`gradfit.engine.train`.
Importing this package imports PyTorch; without it, it raises
:class:`~gradfit.errors.MissingDependencyError` saying how to install it.
"""

from gradfit.errors import require

require("torch", "torch")

from gradfit.torch_backend.convert import from_torch, to_torch  # noqa: E402
from gradfit.torch_backend.mapping import resolve_device  # noqa: E402
from gradfit.torch_backend.optim import HandWritten, make_optimizer  # noqa: E402
from gradfit.torch_backend.stepper import TorchStepper  # noqa: E402
from gradfit.torch_backend.training import train  # noqa: E402

__all__ = [
    "HandWritten",
    "TorchStepper",
    "from_torch",
    "make_optimizer",
    "resolve_device",
    "to_torch",
    "train",
]
