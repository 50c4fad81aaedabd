"""A checkpoint whose values have the wrong JSON types is refused whole, before training
(issue 13, group 10): exit 4, one line, nothing written."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from model_files import join, split

from gradfit.cli import cli

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_helpers import assert_one_line_error, write_sine_csv


def run(*args: object) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, Path, list[object]]:
    data = write_sine_csv(tmp_path / "sine.csv")
    checkpoint = tmp_path / "run.ckpt"
    args = ["fit", data, "--target", "y", "--epochs", 6, "--no-plots", "--hidden", 4,
            "--early-stopping", "--checkpoint", checkpoint]  # fmt: skip
    first = run(*args, "--checkpoint-every", 2, "--out", tmp_path / "m1.safetensors")
    assert first.exit_code == 0, first.output
    return checkpoint, tmp_path / "m2.safetensors", [*args[:4], "--epochs", 12, *args[6:]]


def edited(checkpoint: Path, edit: Any) -> None:
    header, doc, data = split(checkpoint.read_bytes())
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        tensors[name] = (entry, data[begin:end])
    edit(doc["state"]["trainer"], header, tensors)
    out, offset = b"", 0
    for name, (entry, raw) in tensors.items():
        entry["data_offsets"] = [offset, offset + len(raw)]
        header[name] = entry
        offset += len(raw)
        out += raw
    checkpoint.write_bytes(join(header, doc, out))


def set_epoch(state: Any, header: Any, tensors: Any) -> None:
    state["epoch"] = "5"


def negative_best_epoch(state: Any, header: Any, tensors: Any) -> None:
    state["callbacks"][0]["state"]["best_epoch"] = -1


def text_best(state: Any, header: Any, tensors: Any) -> None:
    state["callbacks"][0]["state"]["best"] = "0.5"


def transposed_best(state: Any, header: Any, tensors: Any) -> None:
    ref = state["callbacks"][0]["state"]["best_parameters"][0]["__tensor__"]
    entry, raw = tensors[ref]
    *members, rows, cols = entry["shape"]
    values = np.frombuffer(raw, "<f8").reshape(entry["shape"]).swapaxes(-1, -2).copy()
    tensors[ref] = ({**entry, "shape": [*members, cols, rows]}, values.tobytes())


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (set_epoch, "epoch '5' is not a non-negative integer"),
        (negative_best_epoch, "best_epoch -1 is not a non-negative integer"),
        (text_best, "best '0.5' is not a number"),
        (transposed_best, "best_parameters[0] is float64 (5, 1, 4), the model's is float64 (5, 4,"),
    ],
)
def test_a_checkpoint_with_wrong_values_is_refused_before_training(
    saved: tuple[Path, Path, list[object]],
    edit: Any,
    fragment: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checkpoint, out, args = saved
    edited(checkpoint, edit)
    from gradfit.engine.training import Trainer

    def no_training(self: Any, epochs: int) -> None:
        raise AssertionError("training started")

    monkeypatch.setattr(Trainer, "fit", no_training)
    result = run(*args, "--resume", "--out", out)
    assert result.exit_code == 4, result.output
    assert_one_line_error(result.stderr, "cannot resume from this checkpoint", fragment)
    assert not out.exists()
