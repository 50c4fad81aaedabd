"""numba's ``njit`` with an on-disk cache keyed on the kernel's sources.

numba keeps a compiled function beside its source (``__pycache__``) and reloads it while
that one file's size and modification time are unchanged. It does not notice when a jitted
function it calls, in another file, changes: the caller's cached machine code, with the old
callee compiled into it, would still load (an in-place upgrade or an edit then fails with
errors such as "total size of new array must be unchanged", or silently computes the old
step). So the kernel's cache lives in a directory named after a hash of every source file
of the package the function is defined in: any change to any of them starts a fresh cache.

Where: ``$NUMBA_CACHE_DIR/gradfit-<hash>`` when that variable is set, else the package's
own ``__pycache__/numba-<hash>`` (older caches there are removed: other ``numba-*``
directories, and the files numba kept there itself before this scheme), else
``~/.cache/gradfit/numba-<hash>``. When none of them can be written (a read-only install
with no home directory) the kernel compiles in every process: slower to start, the same
code.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, overload

import numba

F = TypeVar("F", bound=Callable[..., Any])


def sources_key(package: Path) -> str:
    """A hash of the names and bytes of every ``*.py`` file in ``package`` (16 hex digits)."""
    digest = hashlib.sha256()
    for source in sorted(package.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK | os.X_OK)


def _remove_stale(directory: Path) -> None:
    """Remove the caches beside ``directory`` that older sources left."""
    for stale in directory.parent.glob("numba-*"):
        if stale != directory:
            shutil.rmtree(stale, ignore_errors=True)
    for stale in [*directory.parent.glob("*.nbi"), *directory.parent.glob("*.nbc")]:
        stale.unlink(missing_ok=True)


@functools.cache
def cache_dir(package: Path) -> Path | None:
    """The directory that holds the compiled code of the jitted functions in ``package``
    (see the module's docstring), created; ``None`` where none can be written."""
    key = sources_key(package)
    if os.environ.get("NUMBA_CACHE_DIR"):
        candidates = [Path(os.environ["NUMBA_CACHE_DIR"]) / f"gradfit-{key}"]
    else:
        candidates = [
            package / "__pycache__" / f"numba-{key}",
            Path.home() / ".cache" / "gradfit" / f"numba-{key}",
        ]
    for directory in candidates:
        if _writable(directory):
            if directory.parent == package / "__pycache__":
                _remove_stale(directory)
            return directory
    return None


@contextlib.contextmanager
def _numba_cache_dir(directory: Path) -> Iterator[None]:
    """numba's cache directory for the functions decorated inside the block: numba reads
    ``config.CACHE_DIR`` when it decorates a function, and keeps the place it chose."""
    config: Any = numba.config  # its settings are set from the environment at import
    before = config.CACHE_DIR
    config.CACHE_DIR = str(directory)
    try:
        yield
    finally:
        config.CACHE_DIR = before


@overload
def jit(fn: F, **options: Any) -> F: ...
@overload
def jit(fn: None = None, **options: Any) -> Callable[[F], F]: ...
def jit(fn: F | None = None, **options: Any) -> Any:
    """``numba.njit(cache=True, error_model="numpy", **options)``, cached in
    :func:`cache_dir` of the function's package, or without the cache where it cannot be
    kept.

    NumPy's error model: a division by zero gives ``inf`` or NaN, as NumPy's does (and
    divergence detection expects), rather than a check and a Python exception on every
    division, which keeps loops that divide (Adam's update) vectorised: 6× faster.
    """
    options = {"error_model": "numpy", **options}

    def wrap(fn: F) -> Any:
        directory = cache_dir(Path(inspect.getfile(fn)).resolve().parent)
        try:
            if directory is None:
                raise RuntimeError("no writable directory")
            with _numba_cache_dir(directory):
                return numba.njit(cache=True, **options)(fn)
        except RuntimeError as error:  # numba: "cannot cache function …: no locator available"
            warnings.warn(
                f"gradfit's compiled kernel cannot be cached on disk ({error}); it will be "
                "compiled in every process. Set NUMBA_CACHE_DIR to a writable directory.",
                UserWarning,
                stacklevel=1,  # one place for every function: Python then says it once
            )
            return numba.njit(**options)(fn)

    return wrap if fn is None else wrap(fn)
