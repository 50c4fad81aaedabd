"""numba's ``njit`` with its on-disk cache, and without it where no cache can be written.

numba keeps compiled code in a ``__pycache__`` beside the source file, or in the user's
cache directory (``$NUMBA_CACHE_DIR`` first) when that is not writable; a later process
loads it instead of compiling. When neither is writable (a read-only install with no
home directory), numba refuses ``cache=True`` outright: the kernel then compiles in
every process — slower to start, the same code.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar, overload

import numba

F = TypeVar("F", bound=Callable[..., Any])


@overload
def jit(fn: F, **options: Any) -> F: ...
@overload
def jit(fn: None = None, **options: Any) -> Callable[[F], F]: ...
def jit(fn: F | None = None, **options: Any) -> Any:
    """``numba.njit(cache=True, error_model="numpy", **options)``, or without the cache
    where it cannot be kept.

    NumPy's error model: a division by zero gives ``inf`` or NaN, as NumPy's does (and
    divergence detection expects), rather than a check and a Python exception on every
    division, which keeps loops that divide (Adam's update) vectorised: 6× faster.
    """
    options = {"error_model": "numpy", **options}

    def wrap(fn: F) -> Any:
        try:
            return numba.njit(cache=True, **options)(fn)
        except RuntimeError as error:  # numba: "cannot cache function …: no locator available"
            warnings.warn(
                f"gradfit's compiled kernel cannot be cached on disk ({error}); it will be "
                "compiled in every process. Set NUMBA_CACHE_DIR to a writable directory.",
                UserWarning,
                stacklevel=3,
            )
            return numba.njit(**options)(fn)

    return wrap if fn is None else wrap(fn)
