"""The architecture: imports run down the layers and never in a circle (import-linter's
contracts in pyproject.toml), and ``gradfit.io`` works alone, knowing the engine only."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import gradfit

# import-linter is in the dev extra, as pytest is: its absence is an error, not a skip that
# would leave the architecture unchecked.
importlib.import_module("importlinter")

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(gradfit.__file__).resolve().parents[1]


def _python(code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_hold():
    done = _python(
        f"""
        from importlinter.cli import lint_imports
        raise SystemExit(lint_imports(config_filename={str(ROOT / "pyproject.toml")!r},
                                      no_cache=True, no_logo=True))
        """
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_the_contracts_catch_an_upward_import(tmp_path):
    """The layers contract fails on a copy of the package where io imports the estimator."""
    import shutil

    copy = tmp_path / "src"
    shutil.copytree(SRC / "gradfit", copy / "gradfit", ignore=shutil.ignore_patterns("*.pyc"))
    atomic = copy / "gradfit" / "io" / "atomic.py"
    atomic.write_text(atomic.read_text() + "\nfrom gradfit.estimator import MLPRegressor\n")
    env = os.environ | {"PYTHONPATH": str(copy)}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports; raise SystemExit(lint_imports("
            f"config_filename={str(ROOT / 'pyproject.toml')!r}, no_cache=True, no_logo=True))",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout[-4000:]
    assert "gradfit.io.atomic -> gradfit.estimator" in done.stdout


def test_io_reads_and_writes_a_network_without_the_layers_above(tmp_path):
    done = _python(
        f"""
        import sys
        import numpy as np
        from gradfit.engine.network import MLP
        from gradfit.io import model, tabular, arrays, checkpoint, streaming  # noqa: F401

        net = MLP([2, 3, 1], rng=np.random.default_rng(0))
        model.save(net, {str(tmp_path / "net.safetensors")!r})
        back = model.load({str(tmp_path / "net.safetensors")!r})
        X = np.random.default_rng(1).normal(size=(4, 2))
        assert np.array_equal(back.forward(X), net.forward(X))
        above = sorted(m for m in sys.modules if m.split(".")[:2] in (
            ["gradfit", "estimator"], ["gradfit", "torch_backend"], ["gradfit", "cli"]))
        assert not above, above
        assert not any(m in sys.modules for m in ("torch", "sklearn", "matplotlib")), "heavy"
        """
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_command_line_loads_no_heavy_library_until_a_command_needs_it():
    """``gradfit --help`` (and any command before its work) imports neither scikit-learn,
    torch nor matplotlib: a module-level import of the estimator made it take 1.9 s."""
    done = _python(
        """
        import sys
        import gradfit.cli  # noqa: F401

        heavy = [m for m in ("sklearn", "torch", "matplotlib", "pandas") if m in sys.modules]
        assert not heavy, heavy
        """
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.filterwarnings("ignore:MLPRegressor reached max_iter")
def test_estimator_kinds_are_registered_by_the_estimator(tmp_path):
    """io alone names the kinds it knows; gradfit.load registers the estimator's first."""
    from gradfit.estimator import MLPRegressor

    path = tmp_path / "reg.safetensors"
    X = np.linspace(-1, 1, 20)[:, None]
    gradfit.save(
        MLPRegressor(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, X[:, 0]), path
    )
    done = _python(
        f"""
        from gradfit.errors import ModelFileError
        from gradfit.io import model
        try:
            model.load({str(path)!r})
        except ModelFileError as exc:
            print(exc)
        import gradfit
        print(type(gradfit.load({str(path)!r})).__name__)
        """
    )
    assert done.returncode == 0, done.stderr[-3000:]
    first, second = done.stdout.strip().splitlines()
    assert "kind 'regressor' is not one of mlp" in first
    assert "gradfit.load" in first
    assert second == "MLPRegressor"
