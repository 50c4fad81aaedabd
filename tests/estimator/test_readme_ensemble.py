"""The README's deep-ensemble example prints what the README says it prints."""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

from numpy.testing import assert_allclose

README = Path(__file__).parents[2] / "README.md"


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+\.\d*|-?\d+", text)]


def test_the_ensemble_example_prints_what_the_readme_shows() -> None:
    section = README.read_text(encoding="utf-8").split("## How sure is the fit?", 1)[1]
    code, shown = re.findall(r"```(?:python|text)\n(.*?)```", section, flags=re.DOTALL)[:2]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, "README.md", "exec"), {})
    printed, expected = out.getvalue().splitlines(), shown.splitlines()
    # Runs of spaces count as one: NumPy pads its columns to the widest number.
    assert [" ".join(re.sub(r"[-\d.]+", "#", ln).split()) for ln in printed] == [
        " ".join(re.sub(r"[-\d.]+", "#", ln).split()) for ln in expected
    ]
    # Rounded to two decimals: a last-digit flip from another BLAS is allowed.
    assert_allclose(numbers("\n".join(printed)), numbers("\n".join(expected)), atol=0.011)
