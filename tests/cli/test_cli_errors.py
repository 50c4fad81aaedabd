"""Bad input from the shell: one line on stderr, its exit code, nothing good overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import GOOD_MODEL, Invoke, assert_one_line_error

from gradfit.cli.exits import Exit

GOOD = GOOD_MODEL


@pytest.fixture
def kept(tmp_path: Path) -> Path:
    """An output file from an earlier run, which a failing run must leave alone."""
    path = tmp_path / "model.safetensors"
    path.write_bytes(GOOD)
    return path


def assert_untouched(kept: Path) -> None:
    assert kept.read_bytes() == GOOD
    assert not [p for p in kept.parent.iterdir() if p.name.startswith(".")], "temporary file left"


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("", ["the file is empty"]),
        ("x,y\n", ["a header but no data rows"]),
        ("x,y\n1,2\n", ["1 data row(s)", "at least 2", "to fit a model"]),
        ("x,y\n1,2\n2,3\n3,oops\n", ["column 'y'", "row 3 (line 4)", "'oops' is not a number"]),
        ("x,y\n1,2\n,3\n3,4\n", ["column 'x'", "row 2 (line 3)", "empty or NaN"]),
        ("x,y\n1,2\n2,NaN\n3,4\n", ["column 'y'", "row 2 (line 3)", "empty or NaN"]),
        ("x,y\n1,2\n2,inf\n3,4\n", ["column 'y'", "row 2 (line 3)", "infinite"]),
        ("x,z\n1,2\n2,3\n", ["target column(s) 'y' not found", "'x', 'z'"]),
    ],
)
def test_bad_data_for_fit(
    invoke: Invoke, tmp_path: Path, kept: Path, text: str, fragments: list[str]
) -> None:
    data = tmp_path / "data.csv"
    data.write_text(text)
    result = invoke("fit", data, "--target", "y", "--out", kept)
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(result.stderr, "data.csv", *fragments)
    assert result.stdout == ""
    assert_untouched(kept)


def test_missing_data_file(invoke: Invoke, tmp_path: Path, kept: Path) -> None:
    result = invoke("fit", tmp_path / "nope.csv", "--target", "y", "--out", kept)
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(result.stderr, "'", "nope.csv' does not exist")
    assert_untouched(kept)


def test_missing_feature_column(invoke: Invoke, sine_csv: Path, kept: Path) -> None:
    result = invoke("fit", sine_csv, "--target", "y", "--features", "t", "--out", kept)
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(result.stderr, "feature column(s) 't' not found")
    assert_untouched(kept)


def test_a_column_cannot_be_feature_and_target(invoke: Invoke, sine_csv: Path, kept: Path) -> None:
    result = invoke("fit", sine_csv, "--target", "y", "--features", "y", "--out", kept)
    assert result.exit_code == Exit.USAGE
    assert result.stderr == (
        "gradfit: error: column(s) 'y' given as both --features and --target; a column is an "
        "input or a target, not both: leave it out of --features\n"
    )
    assert_untouched(kept)


@pytest.mark.parametrize("command", ["fit", "predict", "report"])
def test_output_in_a_missing_folder(invoke: Invoke, sine_csv: Path, command: str) -> None:
    out = sine_csv.parent / "no" / "such" / "out.file"
    args = {
        "fit": ["fit", sine_csv, "--target", "y"],
        "predict": ["predict", sine_csv, sine_csv],
        "report": ["report"],
    }[command]
    result = invoke(*args, "--out", out)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "the folder", "does not exist")
    assert not out.parent.exists()


def test_unknown_option_is_clicks_usage_error(invoke: Invoke, sine_csv: Path) -> None:
    result = invoke("fit", sine_csv, "--target", "y", "--out", "m.safetensors", "--lr", "-1")
    assert result.exit_code == Exit.USAGE
    assert "Traceback" not in result.stderr
    assert "Invalid value for '--lr'" in result.stderr


def test_a_text_column_among_default_features_suggests_features(
    invoke: Invoke, tmp_path: Path, kept: Path
) -> None:
    data = tmp_path / "data.csv"
    # A text column of one value per row is no category column.
    rows = "".join(f"id{i},{i},{2 * i}\n" for i in range(40))
    data.write_text("id,x,y\n" + rows)
    result = invoke("fit", data, "--target", "y", "--out", kept)
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr, "column 'id' holds text with 40 distinct values", "--features"
    )
    assert_untouched(kept)


def test_a_data_file_whose_name_begins_with_a_dash_says_how_to_name_it(
    invoke: Invoke, sine_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fit -data.csv said only "No such option '-d'", of a file the user could list."""
    monkeypatch.chdir(tmp_path)
    Path("-data.csv").write_bytes(sine_csv.read_bytes())
    result = invoke("fit", "-data.csv", "--target", "y", "--out", "m.safetensors")
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(
        result.stderr,
        "No such option '-d'; '-data.csv' is a file, and an argument that begins with '-' "
        "is read as options: write it ./-data.csv (see 'gradfit fit --help')",
    )
    result = invoke("fit", "./-data.csv", "--target", "y", "--out", "m.safetensors",
                    "--epochs", 1, "--no-plots")  # fmt: skip
    assert result.exit_code == Exit.OK, result.stderr


def test_resume_without_a_checkpoint_says_to_start_afresh(
    invoke: Invoke, sine_csv: Path, kept: Path
) -> None:
    # It said "model.checkpoint.safetensors: not a valid gradfit checkpoint file: no such
    # file", after reading the data, and nothing of --resume.
    result = invoke("fit", sine_csv, "--target", "y", "--out", kept, "--resume")
    assert result.exit_code == Exit.BAD_MODEL
    checkpoint = kept.parent / "model.checkpoint.safetensors"
    assert result.stderr == (
        f"gradfit: error: --resume: there is no checkpoint '{checkpoint}' to continue from "
        "(fit writes one on Ctrl-C, or every --checkpoint-every N epochs); run without "
        "--resume to start afresh, or name the checkpoint with --checkpoint\n"
    )
    assert_untouched(kept)
