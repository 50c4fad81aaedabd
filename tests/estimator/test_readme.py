"""The README's estimator example runs and prints what the README says it prints."""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"


def test_the_estimator_example_prints_what_the_readme_shows() -> None:
    pytest.importorskip("torch")
    section = README.read_text(encoding="utf-8").split("## A scikit-learn estimator\n", 1)[1]
    code, shown = re.findall(r"```(?:python|text)\n(.*?)```", section, flags=re.DOTALL)[:2]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's MLP does not converge, as the README says
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue().splitlines() == shown.splitlines()


def test_the_first_fit_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's first example, near its top: the defaults on 300 noisy sine points."""
    section = README.read_text(encoding="utf-8").split("## A first fit\n", 1)[1]
    code, shown = re.findall(r"```(?:python|text)\n(.*?)```", section, flags=re.DOTALL)[:2]
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue().splitlines() == shown.splitlines()
    assert (tmp_path / "sine.safetensors").is_file()
