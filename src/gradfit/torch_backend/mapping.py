"""The engine's names in torch: its activations as ``torch.nn`` modules, its dtypes as
torch's, and a device named by the user as a :class:`torch.device`."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gradfit.engine.types import DTYPES
from gradfit.errors import MissingDependencyError

ACTIVATION_MODULES: dict[str, type[torch.nn.Module]] = {
    "identity": torch.nn.Identity,
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
}

TORCH_DTYPES: dict[np.dtype[Any], torch.dtype] = {
    dtype: getattr(torch, name) for name, dtype in DTYPES.items()
}
"""The engine's dtypes (:data:`gradfit.engine.types.DTYPES`) as torch's, of the same names."""
NUMPY_DTYPES = {t: n for n, t in TORCH_DTYPES.items()}


def resolve_device(device: Any = None) -> torch.device:
    """``device`` as a :class:`torch.device`; ``None`` is the CPU.

    Raises
    ------
    ValueError
        When ``device`` names no device, or one other than a CPU or CUDA GPU (``"meta"``).
    MissingDependencyError
        When CUDA is asked for but this PyTorch cannot use a GPU.
    """
    try:
        dev = torch.device("cpu" if device is None else device)
    except (RuntimeError, TypeError):
        raise ValueError(f"{device!r} is not a torch device such as 'cpu' or 'cuda'") from None
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(
            f"device {str(dev)!r} cannot train here: gradfit trains on 'cpu' or 'cuda'"
        )
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise MissingDependencyError(
            f"device {str(dev)!r} was asked for, but this PyTorch ({torch.__version__}) "
            "sees no CUDA GPU; use device='cpu', or install a CUDA build of PyTorch "
            "on a machine with an NVIDIA GPU"
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(
            f"device {str(dev)!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s)"
        )
    return dev
