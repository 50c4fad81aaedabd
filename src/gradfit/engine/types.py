"""Array aliases and the floating-point types shared by the engine."""

from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
FloatArray = npt.NDArray[np.floating[Any]]

DTYPES: dict[str, np.dtype[Any]] = {
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
}
"""The engine's floating-point types by name: every other part of gradfit (the torch
backend, model files, the estimator and the command line) maps its own from these."""


def check_dtype(dtype: Any) -> np.dtype[Any]:
    """``dtype`` (a name, type or dtype) as one of :data:`DTYPES`; ``ValueError`` otherwise."""
    chosen = np.dtype(dtype)
    if chosen not in DTYPES.values():
        raise ValueError(f"dtype must be {' or '.join(DTYPES)}, got {chosen}")
    return chosen
