"""The contenders, each in its own module, imported only when run.

Every module has ``LABEL`` (its name in the table), ``missing()`` (why it cannot run
here, or ``None``) and ``prepare(w, X, Y, init)``, which builds the model from the
shared initial parameters ``[W1, b1, …]`` (``W: (n_out, n_in)``) outside the timing and
returns ``train()``: the timed part, which trains and returns the final parameters
in the same layout as NumPy arrays.
"""

from __future__ import annotations

import importlib
from types import ModuleType

CONTENDERS = {
    "gradfit-numpy": "gradfit_numpy",
    "gradfit-torch": "gradfit_torch",
    "numpy-loop": "numpy_loop",
    "torch-loop": "torch_loop",
    "sklearn": "sklearn_mlp",
    "jax": "jax_loop",
}
"""Name in the table → module in this package."""


def load(name: str) -> ModuleType:
    """The module of contender ``name`` (importing its library)."""
    return importlib.import_module(f"contenders.{CONTENDERS[name]}")
