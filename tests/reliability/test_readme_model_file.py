"""The README's model-file and checkpoint examples print what it shows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"
SECTION = "## Model files, checkpoints, divergence and bad input\n"


def _printed(code: str) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    return out.getvalue().splitlines()


def test_the_model_file_example_prints_what_the_readme_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = README.read_text(encoding="utf-8").split(SECTION, 1)[1]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)[0]
    shown = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    monkeypatch.chdir(tmp_path)
    assert _printed(code) == shown


def test_the_checkpoint_example_resumes_bit_for_bit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = README.read_text(encoding="utf-8").split(SECTION, 1)[1]
    section = section.split("**Checkpoints and exact resume.**", 1)[1]
    code, shown = re.findall(r"```(?:python|text)\n(.*?)```", section, flags=re.DOTALL)[:2]
    monkeypatch.chdir(tmp_path)
    assert _printed(code) == shown.splitlines() == ["True True"]
    assert (tmp_path / "run.ckpt").is_file()


def test_the_divergence_example_raises_the_readme_message() -> None:
    """The divergence example continues the checkpoint example (its ``X``, ``Y``, ``MLP``):
    its ``train`` line raises the message its comment shows, and the network kept predicts
    finite values."""
    from gradfit.errors import DivergenceError

    section = README.read_text(encoding="utf-8").split(SECTION, 1)[1]
    section = section.split("**Checkpoints and exact resume.**", 1)[1]
    setup = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)[0]
    block = re.findall(r"```python\n(.*?)```", section.split("**Divergence.**", 1)[1],
                       flags=re.DOTALL)[0]  # fmt: skip
    before, after = block.split("\n# gradfit.errors.DivergenceError: ", 1)
    comment, last = after.rsplit("\n", 2)[0], after.rstrip("\n").rsplit("\n", 1)[1]
    message = " ".join(line.removeprefix("# ") for line in comment.splitlines())
    namespace: dict[str, object] = {}
    setup_lines = setup.split("\nwhole = ", 1)[0]  # the data and the imports, not the runs
    exec(compile(setup_lines, "README.md", "exec"), namespace)
    with pytest.raises(DivergenceError) as raised:
        exec(compile(before, "README.md", "exec"), namespace)
    assert str(raised.value) == message
    expression, shown = last.split("#", 1)
    assert str(eval(expression, namespace)) == shown.strip() == "True"
