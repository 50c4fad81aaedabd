"""Every input and output path of a run, checked together before any work (issue 13,
groups 1, 12, 13, 14): no input or good output is ever overwritten."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import GOOD_MODEL, Invoke, assert_one_line_error

from gradfit.cli.exits import CommandError, Exit
from gradfit.cli.paths import check_kind, fit_figure

GOOD = GOOD_MODEL  # a model file: the kind fit may replace


def without_warnings(stderr: str) -> str:
    return "".join(
        line for line in stderr.splitlines(True) if not line.startswith("gradfit: warning:")
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture
def model(invoke: Invoke, sine_csv: Path, tmp_path: Path) -> Path:
    out = tmp_path / "m.safetensors"
    assert invoke("fit", sine_csv, "--target", "y", "--out", out, "--epochs", 3, "--no-plots")
    return out


def test_fit_refuses_to_write_the_model_over_its_data(
    invoke: Invoke, sine_csv: Path, tmp_path: Path
) -> None:
    before = snapshot(tmp_path)
    result = invoke("fit", sine_csv, "--target", "y", "--out", sine_csv)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(
        result.stderr,
        f"cannot write the model to '{sine_csv}': it is the data file '{sine_csv}'",
        "choose another path",
    )
    assert snapshot(tmp_path) == before


def test_fit_refuses_a_checkpoint_over_its_data(
    invoke: Invoke, sine_csv: Path, tmp_path: Path
) -> None:
    before = snapshot(tmp_path)
    result = invoke(
        "fit", sine_csv, "--target", "y", "--out", tmp_path / "m.safetensors",
        "--checkpoint", sine_csv, "--checkpoint-every", 1,
    )  # fmt: skip
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "cannot write the checkpoint to", "it is the data file")
    assert snapshot(tmp_path) == before


def test_fit_refuses_a_checkpoint_that_is_its_model(
    invoke: Invoke, sine_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m.safetensors"
    result = invoke("fit", sine_csv, "--target", "y", "--out", out, "--checkpoint", out)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "cannot write the checkpoint to", "it is the model file")


@pytest.mark.parametrize("how", ["symlink", "hardlink", "dotted"])
def test_the_same_file_by_another_name_is_the_same_file(
    invoke: Invoke, sine_csv: Path, tmp_path: Path, how: str
) -> None:
    other = tmp_path / "other.csv"
    if how == "symlink":
        other.symlink_to(sine_csv)
        data, out = other, sine_csv
    elif how == "hardlink":
        os.link(sine_csv, other)
        data, out = sine_csv, other
    else:
        data, out = sine_csv, tmp_path / "." / ".." / tmp_path.name / sine_csv.name
    before = snapshot(tmp_path)
    result = invoke("fit", data, "--target", "y", "--out", out)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "it is the data file")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("which", ["data", "model"])
def test_predict_refuses_to_write_over_an_input(
    invoke: Invoke, sine_csv: Path, model: Path, which: str
) -> None:
    target = {"data": sine_csv, "model": model}[which]
    before = snapshot(model.parent)
    result = invoke("predict", model, sine_csv, "--out", target)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(
        result.stderr, f"cannot write the predictions to '{target}': it is the {which} file"
    )
    assert snapshot(model.parent) == before


def test_an_output_that_is_a_symbolic_link_is_refused(
    invoke: Invoke, sine_csv: Path, model: Path, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.csv"
    kept.write_bytes(GOOD)
    link = tmp_path / "p.csv"
    link.symlink_to(kept)
    result = invoke("predict", model, sine_csv, "--out", link)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "it is a symbolic link (to", "give the path of the file")
    assert link.is_symlink() and kept.read_bytes() == GOOD


def test_the_report_is_written_over_an_old_report_only(invoke: Invoke, tmp_path: Path) -> None:
    """report --out d.csv wrote the HTML page over the user's CSV (both are text)."""
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,2\n")
    result = invoke("report", "--out", data)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(
        result.stderr,
        f"cannot write the report to '{data}': it holds text, not an HTML page, which would "
        "be lost; choose another path, or move that file away first",
    )
    assert data.read_text() == "x,y\n1,2\n"
    old = tmp_path / "report.html"
    old.write_text("\n<!DOCTYPE html>\n<html lang='en'>…")
    check_kind(old, what="report")  # the last report is what --out replaces
    with pytest.raises(CommandError, match="it holds an HTML page, not text"):
        check_kind(old, what="predictions")


def test_predictions_are_not_written_over_data_the_model_reads(
    invoke: Invoke, sine_csv: Path, model: Path, tmp_path: Path
) -> None:
    """predict … --out train.csv replaced the user's data: both are text."""
    train = tmp_path / "train.csv"
    train.write_text("# kept\nid,x,y\n1,0.5,2.0\n")
    result = invoke("predict", model, sine_csv, "--out", train)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(
        result.stderr,
        f"cannot write the predictions to '{train}': its header names every input column "
        f"of {model} ('x'), as data does, which would be lost; choose another path, or move "
        "that file away first",
    )
    assert train.read_text() == "# kept\nid,x,y\n1,0.5,2.0\n"
    # The last run's predictions are replaced, and those that kept an id; ones that kept
    # every input cannot be told from data, and are refused too.
    out = tmp_path / "p.csv"
    for _ in range(2):
        assert invoke("predict", model, sine_csv, "--out", out).exit_code == 0
    assert out.read_text().splitlines()[0] == "y"
    assert invoke("predict", model, sine_csv, "--out", out, "--keep", "x").exit_code == 0
    assert invoke("predict", model, sine_csv, "--out", out).exit_code == Exit.USAGE


def test_an_output_that_is_a_device_is_refused(invoke: Invoke, sine_csv: Path, model: Path) -> None:
    result = invoke("predict", model, sine_csv, "--out", "/dev/null")
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "'/dev/null': it is not a regular file")


def test_an_unwritable_folder_is_found_before_training(
    invoke: Invoke, sine_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradfit.estimator import MLPRegressor

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("training started")

    monkeypatch.setattr(MLPRegressor, "fit", no_training)
    # /sys refuses new files even to root, where a chmod-ed folder would not.
    result = invoke("fit", sine_csv, "--target", "y", "--out", "/sys/m.safetensors")
    assert result.exit_code == Exit.FAILURE
    assert_one_line_error(
        result.stderr,
        "cannot write the model to '/sys/m.safetensors': the folder '/sys' is not writable",
    )
    assert ".tmp" not in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_a_read_only_folder_is_found_before_training(
    invoke: Invoke, sine_csv: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    result = invoke("fit", sine_csv, "--target", "y", "--out", folder / "m.safetensors")
    assert result.exit_code == Exit.FAILURE
    assert_one_line_error(result.stderr, f"the folder '{folder}' is not writable")


def test_a_figure_path_that_is_a_folder_leaves_the_old_model(
    invoke: Invoke, sine_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m.safetensors"
    out.write_bytes(GOOD)
    (tmp_path / "m.loss.png").mkdir()
    result = invoke("fit", sine_csv, "--target", "y", "--out", out, "--epochs", 3)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, f"cannot write the loss figure to '{tmp_path}/m.loss.png'")
    assert out.read_bytes() == GOOD


def test_a_figure_that_fails_to_draw_writes_nothing(
    invoke: Invoke, sine_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gradfit import plotting

    def disk_full(*args: object, path: Path, **kwargs: object) -> None:
        Path(path).write_bytes(b"half a")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(plotting, "plot_fit", disk_full)
    out = tmp_path / "m.safetensors"
    out.write_bytes(GOOD)
    result = invoke("fit", sine_csv, "--target", "y", "--out", out, "--epochs", 3)
    assert result.exit_code == Exit.FAILURE
    assert_one_line_error(
        without_warnings(result.stderr), "No space left on device", f"'{tmp_path}/m.fit.png'"
    )
    # All or nothing: the old model stays, no new history, no figure, no temporary file.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors", "sine.csv"]
    assert out.read_bytes() == GOOD


def test_an_existing_diverged_file_is_named_when_replaced(
    invoke: Invoke, sine_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m.safetensors"
    args = ["fit", sine_csv, "--target", "y", "--out", out, "--lr", 1, "--solver", "sgd"]
    first = invoke(*args, "--no-plots")
    assert first.exit_code == Exit.DIVERGED, first.output
    assert_one_line_error(first.stderr, "written to", "m.diverged.safetensors'; ")
    second = invoke(*args, "--no-plots")
    assert second.exit_code == Exit.DIVERGED
    assert_one_line_error(second.stderr, "m.diverged.safetensors' (replacing the one an earlier")
    assert not out.exists()


def test_a_finite_explosion_exits_as_divergence(
    invoke: Invoke, sine_csv: Path, tmp_path: Path
) -> None:
    """Issue 13, group 4: 1.5 → 6e24 → 5e12 with exit 0 and a constant prediction."""
    out = tmp_path / "m.safetensors"
    result = invoke("fit", sine_csv, "--target", "y", "--lr", "1e6", "--epochs", 50, "--out", out)
    assert result.exit_code == Exit.DIVERGED
    assert_one_line_error(result.stderr, "over 1e+06 times its first value", "No model was written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sine.csv"]


def test_a_wide_file_is_summarised_in_one_short_line(invoke: Invoke, tmp_path: Path) -> None:
    data = tmp_path / "wide.csv"
    names = [f"c{j}" for j in range(999)]
    rows = [",".join(str((i * 7 + j) % 11) for j in range(1000)) for i in range(5)]
    data.write_text(",".join([*names, "y"]) + "\n" + "\n".join(rows) + "\n")
    result = invoke(
        "fit", data, "--target", "y", "--out", tmp_path / "m.safetensors", "--epochs", 2,
        "--no-plots", "--hidden", 4,
    )  # fmt: skip
    assert result.exit_code == Exit.OK, result.output
    assert "): c0, c1, c2, c3, c4, … (999 columns) -> y\n" in result.stdout
    assert "c998" not in result.stdout


def test_a_read_only_output_is_refused_and_left_as_it_was(
    invoke: Invoke, model: Path, sine_csv: Path, tmp_path: Path
) -> None:
    """A rename replaces a file whatever its mode (and root writes any): predict --out of
    a file made read-only (chmod a-w) replaced it, exit 0, and left it writable."""
    kept = tmp_path / "kept.csv"
    kept.write_text("id,verdict\n1,final\n")
    kept.chmod(0o444)
    result = invoke("predict", model, sine_csv, "--out", kept)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(
        result.stderr,
        f"cannot write the predictions to '{kept}': it is read-only (no one may write it); "
        f"choose another path, or make it writable first (chmod u+w '{kept}')",
    )
    assert kept.read_text() == "id,verdict\n1,final\n"
    assert kept.stat().st_mode & 0o777 == 0o444
    model.chmod(0o444)
    before = model.read_bytes()
    result = invoke("fit", sine_csv, "--target", "y", "--out", model, "--epochs", 2)
    assert result.exit_code == Exit.USAGE
    assert "it is read-only" in result.stderr
    assert model.read_bytes() == before


def test_a_replaced_output_keeps_the_mode_of_the_file_it_replaces(
    invoke: Invoke, model: Path, sine_csv: Path, tmp_path: Path
) -> None:
    """A private file (0600) replaced by predictions became 0644 (mkstemp's file given
    the umask's mode): readable by everyone."""
    private = tmp_path / "private.csv"
    private.write_text("y\n1\n")
    private.chmod(0o600)
    assert invoke("predict", model, sine_csv, "--out", private).exit_code == Exit.OK
    assert private.read_text().startswith("y\n") and len(private.read_text()) > 100
    assert private.stat().st_mode & 0o777 == 0o600


def test_targets_whose_names_are_no_file_names_get_figures_of_their_own(
    invoke: Invoke, tmp_path: Path
) -> None:
    """--target a/b ended in a traceback (ValueError: Invalid name 'm.fit-a/b.png') after
    training; a/b and a_b, or Y and y on a file system that ignores case, would share a
    figure."""
    x = np.linspace(-3, 3, 40)
    data = tmp_path / "two.csv"
    data.write_text("x,a/b,a_b\n" + "".join(f"{a},{np.sin(a)},{np.cos(a)}\n" for a in x.tolist()))
    out = tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "a/b", "--target", "a_b", "--out", out, "--epochs", 3)
    assert result.exit_code == Exit.OK, result.stderr
    assert sorted(p.name for p in tmp_path.glob("m.fit*")) == ["m.fit-1-a_b.png", "m.fit-2-a_b.png"]


def test_a_figures_name_is_a_file_name_whatever_the_target(tmp_path: Path) -> None:
    out = tmp_path / "m.safetensors"
    assert fit_figure(out, "y", ["y"]).name == "m.fit.png"
    assert fit_figure(out, "y", ["Y", "y"]).name == "m.fit-2-y.png"
    assert fit_figure(out, "a\tb", ["a\tb", "c"]).name == "m.fit-a_b.png"
    long = fit_figure(out, "é" * 200, ["é" * 200, "c"]).name
    assert long == "m.fit-" + "é" * 50 + ".png"


def test_a_name_longer_than_the_file_system_takes_is_refused_and_one_that_fits_is_written(
    invoke: Invoke, model: Path, sine_csv: Path, tmp_path: Path
) -> None:
    """A 300-byte name said 'File name too long' (exit 1); a 244-byte one, which the file
    system takes, said the folder 'is not writable (File name too long)': the
    temporary file beside it had the whole name and more."""
    too_long = tmp_path / ("p" * 296 + ".csv")
    result = invoke("predict", model, sine_csv, "--out", too_long)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(
        result.stderr,
        f"cannot write the predictions to '{too_long}': the file name is 300 bytes long, more "
        "than the 255 this file system allows; choose a shorter name",
    )
    fits = tmp_path / ("p" * 240 + ".csv")
    assert invoke("predict", model, sine_csv, "--out", fits).exit_code == Exit.OK
    assert fits.read_text().startswith("y\n")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (("predict", "", "{data}", "--out", "p.csv"), "the model path is empty", Exit.BAD_MODEL),
        (("evaluate", "", "{data}"), "the model path is empty", Exit.BAD_MODEL),
        (("predict", "{model}", "", "--out", "p.csv"), "the data path is empty", Exit.BAD_DATA),
        (("evaluate", "{model}", ""), "the data path is empty", Exit.BAD_DATA),
        (("fit", "", "--target", "y", "--out", "m2.safetensors"), "the data path is empty",
         Exit.BAD_DATA),
    ],
)  # fmt: skip
def test_an_empty_input_path_is_named_as_empty_not_as_the_current_folder(
    invoke: Invoke,
    model: Path,
    sine_csv: Path,
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
    code: Exit,
) -> None:
    """'' (``"$MODEL"`` with MODEL unset) was Path('.'): '.: not a valid gradfit model
    file: it is a folder', '. is a folder, not a data file'."""
    before = snapshot(tmp_path)
    result = invoke(*(a.format(model=model, data=sine_csv) for a in args))
    assert result.exit_code == code
    what = message.split()[1]
    assert_one_line_error(result.stderr, f"{message} (''); give the path of the {what} file")
    assert snapshot(tmp_path) == before


def test_demo_refuses_an_empty_folder_rather_than_writing_into_the_current_one(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("demo", "numpy", "--out", "")
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(
        result.stderr,
        "cannot write the figures to '': the path is empty; give the path of a folder ('.' "
        "for the current one)",
    )
    assert list(tmp_path.iterdir()) == []


def test_demo_replaces_none_of_the_users_files_and_checks_before_it_runs(
    invoke: Invoke, tmp_path: Path
) -> None:
    """A file of the user's under one of the demo's figure names (notes saved as
    03-linear-fit.png), or a folder there, is refused before any figure is written:
    demo wrote its earlier figures, then replaced the notes."""
    (tmp_path / "03-linear-fit.png").write_text("my notes")
    (tmp_path / "keep.csv").write_text("x\n1\n")
    before = snapshot(tmp_path)
    result = invoke("demo", "numpy", "--out", str(tmp_path))
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(
        result.stderr,
        f"cannot write the figure 03-linear-fit to '{tmp_path / '03-linear-fit.png'}': it "
        "holds text, not a PNG picture, which would be lost; choose another path, or move "
        "that file away first",
    )
    assert snapshot(tmp_path) == before
    folder = tmp_path / "again"
    (folder / "12-torch-network-loss.png").mkdir(parents=True)
    result = invoke("demo", "--out", str(folder))
    assert result.exit_code == Exit.USAGE and "it is a folder" in result.stderr
    assert [p.name for p in folder.iterdir()] == ["12-torch-network-loss.png"]


def test_an_output_under_a_file_says_the_file_is_no_folder(
    invoke: Invoke, model: Path, sine_csv: Path
) -> None:
    """--out data.csv/p.csv said "the folder 'data.csv' does not exist", of a file the
    user could see."""
    out = sine_csv / "p.csv"
    result = invoke("predict", model, sine_csv, "--out", out)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(
        result.stderr,
        f"cannot write the predictions to '{out}': '{sine_csv}' is a file, not a folder; give "
        "a path in a folder",
    )


@pytest.mark.parametrize(
    ("args", "what", "option"),
    [
        (("fit", "{data}", "--target", "y", "--epochs", "1", "--out", "--no-plots"), "model",
         "--out"),
        (("fit", "{data}", "--target", "y", "--out", "m2.safetensors", "--checkpoint",
          "--no-plots"), "checkpoint", "--checkpoint"),
        (("predict", "{model}", "{data}", "--out", "--keep"), "predictions", "--out"),
        (("demo", "numpy", "--out", "--seed"), "figures", "--out"),
    ],
)  # fmt: skip
def test_an_option_taken_as_an_outputs_value_is_refused(
    invoke: Invoke,
    model: Path,
    sine_csv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    what: str,
    option: str,
) -> None:
    """fit … --out --no-plots (the path forgotten) wrote a model named '--no-plots' and
    its figures, which --no-plots was to leave out, exit 0."""
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    result = invoke(*(a.format(model=model, data=sine_csv) for a in args))
    assert result.exit_code == Exit.USAGE
    value = args[-1]
    assert_one_line_error(
        result.stderr,
        f"cannot write the {what} to '{value}': that reads as an option, so {option} was given "
        f"no value; give the path (./{value} for a file of that name)",
    )
    assert snapshot(tmp_path) == before
