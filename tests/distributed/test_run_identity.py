"""``fit --distributed --resume`` refuses a checkpoint of another run, naming the difference,
as plain ``fit --resume`` does (it is the same code); data errors are one line from rank 0
and exit 3 from every rank — and from the run itself when gradfit starts the ranks
(``--nproc-per-node``) rather than torchrun.

Without torchrun, ``--distributed`` is a group of one process: the checks run in-process.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _launch import environment, torchrun
from click.testing import CliRunner, Result

pytest.importorskip("torch")

from gradfit.cli import cli
from gradfit.io.checkpoint import load_checkpoint

pytestmark = pytest.mark.torch
RUN = ["--target", "3", "--backend", "torch", "--distributed", "--hidden", "4",
       "--epochs", "2", "--batch-size", "8", "--lr", "0.01", "--seed", "1",
       "--checkpoint-every", "1", "--no-plots"]  # fmt: skip


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "data.npy"
    np.save(path, rng.normal(size=(32, 4)))
    return path


def fit(data: Path, out: Path, *options: str) -> Result:
    return CliRunner().invoke(cli, ["fit", str(data), *RUN, *options, "--out", str(out)])


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (["--lr", "0.02"], "--lr: 0.01 then, 0.02 now"),
        (["--activation", "tanh"], "--activation: 'relu' then, 'tanh' now"),
        (["--seed", "2"], "--seed: 1 then, 2 now"),
        (["--hidden", "5"], "--hidden: [4] then, [4, 5] now"),
        (["--batch-size", "4"], "--batch-size: 8 then, 4 now"),
        (["--alpha", "0.1"], "--alpha: 0.0001 then, 0.1 now"),
        (["--features", "2", "--features", "1", "--features", "0"],
         "features: ['0', '1', '2'] then, ['2', '1', '0'] now"),
    ],
)  # fmt: skip
def test_a_checkpoint_of_another_run_is_refused(
    data: Path, tmp_path: Path, change: list[str], fragment: str
) -> None:
    out = tmp_path / "m.safetensors"
    assert fit(data, out).exit_code == 0
    checkpoint = tmp_path / "m.checkpoint.safetensors"
    before = checkpoint.read_bytes()
    # A later --lr/--seed/… replaces the earlier one; --hidden adds a layer.
    done = fit(data, out, "--resume", "--epochs", "4", *change)
    assert done.exit_code == 2, done.output
    assert "belongs to another run" in done.output and fragment in done.output
    assert checkpoint.read_bytes() == before


def test_an_edited_or_shorter_data_file_is_another_run(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.safetensors"
    assert fit(data, out).exit_code == 0
    A = np.load(data)
    A[5, 1] += 1.0  # same shape, same rows and chunks: only the digest tells
    np.save(data, A)
    done = fit(data, out, "--resume", "--epochs", "4")
    assert done.exit_code == 2
    assert re.search(r"data: 32 rows, sha256 [0-9a-f]{64} then, 32 rows, sha256", done.output)
    np.save(data, A[:30])
    assert "data: 32 rows, sha256" in fit(data, out, "--resume", "--epochs", "4").output


def test_the_same_run_resumes_and_a_missing_checkpoint_is_named(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.safetensors"
    assert fit(data, out).exit_code == 0
    done = fit(data, out, "--resume", "--epochs", "4")
    assert done.exit_code == 0, done.output
    assert "trained 4 epochs on 32 rows" in done.output
    assert load_checkpoint(tmp_path / "m.checkpoint.safetensors")["epoch"] == 4
    missing = fit(data, tmp_path / "other.safetensors", "--resume")
    assert missing.exit_code == 4 and "other.checkpoint.safetensors" in missing.output


def test_a_data_error_under_torchrun_is_one_line_and_exit_3_from_every_rank(
    data: Path, tmp_path: Path
) -> None:
    cmd = torchrun(2, "-m", "gradfit", "fit", str(data), "--target", "9", "--distributed",
                   "--backend", "torch", "--out", str(tmp_path / "m.safetensors"))  # fmt: skip
    done = subprocess.run(cmd, env=environment(), capture_output=True, text=True, timeout=180)
    errors = [line for line in done.stderr.splitlines() if line.startswith("gradfit: error:")]
    assert errors == [
        f"gradfit: error: {data}: column(s) '9' not found; the file has '0', '1', '2', '3'"
    ]
    assert "gloo" not in done.stderr.lower() and "DistBackendError" not in done.stderr
    # torchrun reports the failed ranks' exit codes: 3 (bad data) from every rank that
    # ends by itself; torchrun stops the others (SIGTERM, -15) once one has failed.
    codes = re.findall(r"exitcode\s*:\s*(-?\d+)", done.stderr)
    assert "3" in codes and set(codes) <= {"3", "-15", "1"}, done.stderr[-2000:]
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize(("late", "seconds"), [(0, 3), (1, 1)])
def test_rank_0_says_the_error_even_when_another_rank_meets_it_first(
    data: Path, tmp_path: Path, late: int, seconds: int
) -> None:
    # One rank starts late. Rank 0 late: rank 1 meets the error first and waits for rank
    # 0 to say it (ending at once made torchrun stop rank 0 before it could). Rank 1
    # late: rank 0 says the error and waits for rank 1 to meet it (ending at once made
    # torchrun stop rank 1, which said that it was stopped).
    late_script = tmp_path / "late_rank.py"
    late_script.write_text(
        "import os, sys, time\n"
        f"if os.environ['RANK'] == '{late}':\n    time.sleep({seconds})\n"
        "from gradfit.cli import main\n"
        "sys.argv = ['gradfit', *sys.argv[1:]]\nmain()\n"
    )
    cmd = torchrun(2, str(late_script), "fit", str(data), "--target", "9", "--distributed",
                   "--backend", "torch", "--out", str(tmp_path / "m.safetensors"))  # fmt: skip
    done = subprocess.run(cmd, env=environment(), capture_output=True, text=True, timeout=180)
    errors = [line for line in done.stderr.splitlines() if line.startswith("gradfit: error:")]
    assert errors == [
        f"gradfit: error: {data}: column(s) '9' not found; the file has '0', '1', '2', '3'"
    ]
    assert set(re.findall(r"exitcode\s*:\s*(-?\d+)", done.stderr)) == {"3"}, done.stderr[-2000:]


def test_a_data_error_under_nproc_per_node_is_one_line_and_exit_3(
    data: Path, tmp_path: Path
) -> None:
    cmd = [sys.executable, "-m", "gradfit", "fit", str(data), "--target", "9", "--backend",
           "torch", "--nproc-per-node", "2", "--out", str(tmp_path / "m.safetensors")]  # fmt: skip
    done = subprocess.run(cmd, env=environment(), capture_output=True, text=True, timeout=180)
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        f"gradfit: error: {data}: column(s) '9' not found; the file has '0', '1', '2', '3'"
    ]
    assert done.stdout == ""
    assert not (tmp_path / "m.safetensors").exists()


def test_nproc_per_node_is_refused_under_torchrun(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "job")
    monkeypatch.delenv("GRADFIT_LAUNCHED", raising=False)
    done = fit(data, tmp_path / "m.safetensors", "--nproc-per-node", "2")
    assert done.exit_code == 2
    assert done.stderr.splitlines() == [
        "gradfit: error: --nproc-per-node starts its own processes; under torchrun leave it "
        "out (torchrun's --nproc_per_node says how many)"
    ]


@pytest.mark.parametrize(
    ("data_name", "args", "code", "line"),
    [
        ("data.npy", ["--backend", "numpy"], 2, "--distributed needs --backend torch"),
        ("data.npy", ["--device", "nonsense"], 2,
         "'nonsense' is not a torch device such as 'cpu' or 'cuda'"),
        ("data.npy", ["--checkpoint", "{tmp}/no/c.safetensors"], 2, "cannot write the "
         "checkpoint to '{tmp}/no/c.safetensors': the folder '{tmp}/no' does not exist"),
        ("data.npy", ["--features", "7"], 3,
         "{tmp}/data.npy: column(s) '7' not found; the file has '0', '1', '2', '3'"),
        ("data.csv", [], 3,
         "{tmp}/data.csv: target column(s) '3' not found; the file has 'x', 'y'"),
        ("missing.csv", [], 3, "data file '{tmp}/missing.csv' does not exist"),
        ("data.npy", ["--resume"], 4, "--resume: there is no checkpoint "
         "'{tmp}/m.checkpoint.safetensors' to continue from (fit writes one on Ctrl-C, or "
         "every --checkpoint-every N epochs); run without --resume to start afresh, or name "
         "the checkpoint with --checkpoint"),
    ],
)  # fmt: skip
def test_nproc_per_node_checks_options_and_data_before_it_starts_a_process(
    data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    data_name: str,
    args: list[str],
    code: int,
    line: str,
) -> None:
    """A bad option started the ranks (seconds) and was said by rank 0: it is said by
    the command itself, with its exit code, and no process is started."""

    def launch(*_: object) -> int:
        raise AssertionError("processes were started")

    monkeypatch.setattr("gradfit.cli.launch.launch", launch)
    monkeypatch.delenv("GRADFIT_LAUNCHED", raising=False)
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    (tmp_path / "data.csv").write_text("x,y\n1,2\n3,4\n")
    args = [a.format(tmp=tmp_path) for a in args]
    done = fit(tmp_path / data_name, tmp_path / "m.safetensors", *args, "--nproc-per-node", "2")
    assert done.exit_code == code, done.output
    assert done.stderr.splitlines() == [f"gradfit: error: {line.format(tmp=tmp_path)}"]
    assert done.stdout == ""
