"""Take it away: the exported command and script repeat the live run number for number."""

from __future__ import annotations

import contextlib
import csv
import io
import runpy
import shlex
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from playground_helpers import Channel
from starlette.testclient import TestClient

from gradfit.cli import cli
from gradfit.playground.export import TRAIN_CSV

RUNS = {
    "sine, Adam, full batch": {"data": "sine", "hidden": [32], "lr": 0.01},
    "line, no hidden layer, plain SGD": {
        "data": "line", "hidden": [], "optimizer": "sgd", "lr": 0.05, "train_fraction": 0.5,
    },
    "peaks, momentum, minibatches, sum loss, L2": {
        "data": "peaks", "hidden": [16, 8], "optimizer": "momentum", "lr": 0.001,
        "batch_size": 10, "loss": "sse", "l2": 0.01, "n_points": 200, "seed": 3,
        "activation": "tanh", "train_fraction": 0.5,
    },
}  # fmt: skip


def live_run(client: TestClient, settings: dict[str, Any], epochs: int, folder: Path) -> Any:
    """Train ``epochs`` epochs live, export, and download the files into ``folder``."""
    with client.websocket_connect("/ws") as ws:
        channel = Channel(ws)
        channel.receive()
        channel.configure(**settings)
        streamed = [v for m in channel.play_to(epochs) if m["type"] == "update" for v in m["loss"]]
        channel.send({"type": "export"})
        export = channel.until_type("export")[-1]
        for name, url in export["files"].items():
            (folder / name).write_bytes(client.get(url).content)
    assert len(streamed) == epochs and export["final_loss"] == streamed[-1]
    return export


def command_final_loss(command: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> float:
    args = shlex.split(command)
    assert args[:3] == ["gradfit", "fit", TRAIN_CSV]
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(cli, [*args[1:], "--no-plots"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((folder / "model.history.csv").open()))
    assert len(rows) == int(args[args.index("--epochs") + 1])
    return float(rows[-1]["loss"])


@pytest.mark.parametrize("name", list(RUNS))
def test_the_command_and_the_script_reach_the_live_runs_final_loss(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    export = live_run(client, RUNS[name], 60, tmp_path)
    # Exactly: the same estimator on the same rows from the same seed.
    assert command_final_loss(export["command"], tmp_path, monkeypatch) == export["final_loss"]
    script, out = tmp_path / "script.py", io.StringIO()
    script.write_text(export["python"])
    # The script's fit stops at max_iter, which scikit-learn's convention warns of.
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runpy.run_path(str(script))
    assert f"final loss {export['final_loss']!r}" in out.getvalue()


@pytest.mark.torch
def test_the_torch_backend_run_is_repeated_too(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    settings = {"data": "ripple", "hidden": [8, 8], "backend": "torch", "batch_size": 16}
    export = live_run(client, settings, 30, tmp_path)
    assert "--backend torch" in export["command"]
    assert command_final_loss(export["command"], tmp_path, monkeypatch) == export["final_loss"]


def test_an_uploaded_table_is_exported_with_its_own_column_names(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "speed, dist\n" + "".join(f"{i},{(i * 7919) % 101 + 0.5 * i}\n" for i in range(50))
    with client.websocket_connect("/ws") as ws:
        channel = Channel(ws)
        channel.receive()
        channel.send({"type": "upload", "name": "cars.csv", "size": len(text)})
        ws.send_bytes(text.encode())
        assert channel.until_type("table")[-1]["columns"] == ["speed", "dist"]
        channel.configure(data="csv", features=["speed"], target="dist", hidden=[8])
        channel.play_to(20)
        channel.send({"type": "export"})
        export = channel.until_type("export")[-1]
        for name, url in export["files"].items():
            (tmp_path / name).write_bytes(client.get(url).content)
    assert "--target dist --features speed" in export["command"]
    assert command_final_loss(export["command"], tmp_path, monkeypatch) == export["final_loss"]
