"""The README's torch-backend example and its ``gradfit gradcheck`` session print what the
README shows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from readme_session import NUMBER, assert_prints, console_session, run

README = Path(__file__).parents[2] / "README.md"
HEADING = "## The PyTorch backend and the gradient check"


def test_both_backends_print_the_lines_the_readme_shows() -> None:
    section = README.read_text(encoding="utf-8").split(HEADING + "\n", 1)[1]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)[0]
    shown = re.findall(r"```\n(Epoch.*?)```", section, flags=re.DOTALL)[0].splitlines()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue().splitlines() == shown + shown  # torch's run, then the engine's


def _rounding_blanked(line: str) -> str:
    """A parameter's row with its engine-vs-autograd columns (the first two numbers after
    the shape: rounding, whose last digits move with the BLAS build) replaced by ``#``."""
    name, rest = line.split(" ", 1)
    if not re.match(r"[Wb]\d+$", name):
        return line
    shape, numbers = rest.split(")", 1)
    return f"{name} {shape}) " + NUMBER.sub("#", numbers, count=2)


def test_the_gradcheck_session_prints_what_the_readme_shows() -> None:
    [(command, expected)] = console_session(HEADING)
    assert command.startswith("gradfit gradcheck")
    printed = run(command)
    assert_prints(
        [_rounding_blanked(line) for line in printed],
        [_rounding_blanked(line) for line in expected],
        command,
    )
