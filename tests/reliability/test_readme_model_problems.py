"""The README's table of bad model files ("**Every bad file tried, and what the user
sees.**") names each PROBLEM as ``gradfit.load`` words it: every row whose file
``test_model_file.py`` builds is built again here and its message compared whole (the
table said "kind 'cnn' is not one of mlp, regressor" long after a third kind came)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_model_file import HEADER_CASES, _raw_cases, rewrite, valid_bytes

import gradfit
from gradfit.errors import ModelFileError

README = Path(__file__).parents[2] / "README.md"
TABLE = "| bad input | PROBLEM | exit |"
PREFIX = "not a valid gradfit model file: "


def readme_problems() -> dict[str, str]:
    """The table's PROBLEM by its 'bad input'."""
    text = README.read_text(encoding="utf-8").split(TABLE, 1)[1]
    found = {}
    for line in text.splitlines()[2:]:
        if not line.startswith("| "):
            break
        match = re.fullmatch(r"\| (.*?) \| `(.*)`(.*) \| (\d+) \|", line)
        assert match is not None, line
        found[match[1]] = match[2]
    return found


def problem(path: Path) -> str:
    with pytest.raises(ModelFileError) as info:
        gradfit.load(path)
    return str(info.value).split(PREFIX, 1)[1]


def test_the_header_and_spec_rows_say_what_load_says(tmp_path: Path) -> None:
    shown = readme_problems()
    valid = valid_bytes(tmp_path)
    path = tmp_path / "bad.safetensors"
    checked = []
    for name, edit, _ in HEADER_CASES:
        if name in shown:
            path.write_bytes(rewrite(valid, edit))
            assert problem(path) == shown[name], name
            checked.append(name)
    for name, raw, _ in _raw_cases(valid):
        if name in shown:
            path.write_bytes(raw)
            assert problem(path) == shown[name], name
            checked.append(name)
    assert len(checked) >= 30, checked
