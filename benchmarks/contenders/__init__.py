"""The contenders, each in its own module, imported only when run.

Every module has ``LABEL`` (its name in the table), ``missing()`` (why it cannot run
here, or ``None``) and ``prepare(w, X, Y, init)``, which builds the model from the
shared initial parameters ``[W1, b1, …]`` (``W: (n_out, n_in)``) outside the timing and
returns ``train()``: the timed part, which trains and returns the final parameters
in the same layout as NumPy arrays. A contender that compiles does so in ``prepare``
and sets ``train.compile_seconds``; one that does not fit a workload has ``skip(w)``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from workloads import Workload

CONTENDERS = {
    "gradfit": "gradfit_default",
    "gradfit-numpy": "gradfit_numpy",
    "gradfit-torch": "gradfit_torch",
    "gradfit-torch-bf16": "gradfit_torch_bf16",
    "numpy-loop": "numpy_loop",
    "torch-loop": "torch_loop",
    "torch-compile": "torch_compile",
    "sklearn": "sklearn_mlp",
    "jax": "jax_loop",
    "jax-scan": "jax_scan",
}
"""Name in the table → module in this package."""


def load(name: str) -> ModuleType:
    """The module of contender ``name`` (importing its library)."""
    return importlib.import_module(f"contenders.{CONTENDERS[name]}")


def skipped(name: str, w: Workload) -> str | None:
    """Why contender ``name`` does not run workload ``w`` here, or ``None``."""
    module = load(name)
    why = module.missing()
    if why is None and hasattr(module, "skip"):
        why = module.skip(w)
    return why
