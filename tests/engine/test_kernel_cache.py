"""The kernel's on-disk cache: keyed on every source of the package, so a changed callee
in another file is never run from a stale cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numba")
from gradfit.engine.kernel import cache

CALLER = """
from cache_probe.callee import value
from gradfit.engine.kernel.cache import jit


@jit
def caller():
    return value() + 0
"""
CALLEE = """
from gradfit.engine.kernel.cache import jit


@jit
def value():
    return {value}
"""


def test_the_key_changes_with_any_source_of_the_package(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    (tmp_path / "notes.txt").write_text("not a source\n")
    key = cache.sources_key(tmp_path)
    assert len(key) == 16
    (tmp_path / "notes.txt").write_text("changed\n")
    assert cache.sources_key(tmp_path) == key
    (tmp_path / "b.py").write_text("y = 3\n")
    assert cache.sources_key(tmp_path) != key
    (tmp_path / "b.py").write_text("y = 2\n")
    assert cache.sources_key(tmp_path) == key


def test_a_changed_callee_in_another_file_is_compiled_again(tmp_path: Path) -> None:
    """numba's own cache would reload ``caller`` with the old ``value`` compiled into it:
    only ``callee.py`` changes, and ``caller.py`` keeps its size and modification time."""
    package = tmp_path / "cache_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "caller.py").write_text(CALLER)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["HOME"] = str(tmp_path)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *sys.path])

    def run() -> str:
        code = "from cache_probe.caller import caller; print(caller())"
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    (package / "callee.py").write_text(CALLEE.format(value=1))
    assert run() == "1"
    assert run() == "1"  # from the cache
    (stamp,) = (package / "__pycache__").glob("numba-*")
    assert any(stamp.rglob("caller.caller-*.nbi"))
    (package / "callee.py").write_text(CALLEE.format(value=2))
    assert run() == "2"
    assert [p.name for p in (package / "__pycache__").glob("numba-*")] == [
        f"numba-{cache.sources_key(package)}"
    ]


def test_numba_cache_dir_is_honoured_and_keyed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "m.py").write_text("z = 1\n")
    assert cache.cache_dir(package) == tmp_path / "numba" / f"gradfit-{cache.sources_key(package)}"
    assert cache.cache_dir(package).is_dir()


def test_without_a_writable_cache_the_kernel_compiles_anyway(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from numba.core import caching

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])
    with pytest.warns(UserWarning, match="cannot be cached on disk.*NUMBA_CACHE_DIR"):

        @cache.jit
        def twice(x: float) -> float:
            return 2 * x

    assert twice(21.0) == 42.0


def test_without_any_writable_directory_the_kernel_compiles_anyway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "cache_dir", lambda package: None)
    with pytest.warns(UserWarning, match="no writable directory"):

        @cache.jit
        def thrice(x: float) -> float:
            return 3 * x

    assert thrice(14.0) == 42.0


def test_without_any_writable_directory_python_says_so_once(tmp_path: Path) -> None:
    # Each compiled function warned from its own place, so Python printed it 13 times.
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    script = (
        "import numpy as np\n"
        "from gradfit.engine import MLP, Adam, train\n"
        "net = MLP([1, 8, 1], 'relu', rng=np.random.default_rng(0))\n"
        "X = np.linspace(-1, 1, 20)[:, None]\n"
        "train(net, X, np.sin(X), optimizer=Adam(net.parameters()), epochs=2, kernel='on')\n"
    )
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(blocked / "cache"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert done.stderr.count("cannot be cached on disk") == 1, done.stderr


def test_a_read_only_package_caches_in_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "m.py").write_text("z = 1\n")
    (package / "__pycache__").write_text("a file: no directory can be made here\n")
    key = cache.sources_key(package)
    assert cache.cache_dir(package) == tmp_path / "home" / ".cache" / "gradfit" / f"numba-{key}"
