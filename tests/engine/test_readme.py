"""The README's engine example runs and prints what the README says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from numpy.testing import assert_allclose

README = Path(__file__).parents[2] / "README.md"


def test_the_engine_example_prints_what_the_readme_shows() -> None:
    section = README.read_text(encoding="utf-8").split("## The engine\n", 1)[1]
    code, shown = re.findall(r"```(?:python|text)\n(.*?)```", section, flags=re.DOTALL)[:2]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    printed, expected = out.getvalue().splitlines(), shown.splitlines()
    assert printed[:-1] == expected[:-1]  # the log lines and the counts, character for character
    last = [[float(v) for v in line.strip("[]").split()] for line in (printed[-1], expected[-1])]
    assert_allclose(last[0], last[1], rtol=1e-6)
