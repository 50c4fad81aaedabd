"""Every numeric option of every command refuses NaN, infinities, negatives and huge
values as a usage error: exit 2, one line, no traceback, nothing run."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from cli_helpers import Invoke, assert_one_line_error
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gradfit.cli import cli
from gradfit.cli.exits import Exit

# Arguments that make each command's line complete; parsing fails before they are used.
BASE = {
    "fit": ["data.csv", "--target", "y", "--out", "m.safetensors"],
    "predict": ["m.safetensors", "data.csv", "--out", "p.csv"],
    "evaluate": ["m.safetensors", "data.csv"],
    "demo": [],
    "report": [],
    "gradcheck": [],
    "playground": ["--no-browser"],
}
TEXT_NUMBERS = {("gradcheck", "--sizes")}
"""Options whose value is parsed from text by gradfit rather than by a click type."""
ZERO_OK = {"--alpha", "--tol", "--seed", "--momentum", "--hidden"}
"""Plain SGD is momentum 0; ``--hidden 0`` alone is a network without hidden layers."""


def numeric_options() -> list[tuple[str, str]]:
    found = []
    for name, command in sorted(cli.commands.items()):
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            flag = param.opts[0]
            number = isinstance(param.type, click.types._NumberParamTypeBase)
            if number or flag == "--batch-size" or (name, flag) in TEXT_NUMBERS:
                found.append((name, flag))
    return found


OPTIONS = numeric_options()


def test_every_command_with_numbers_is_covered() -> None:
    commands = {"fit", "predict", "evaluate", "demo", "report", "gradcheck", "playground"}
    assert {name for name, _ in OPTIONS} == commands
    assert len(OPTIONS) >= 13, OPTIONS


def as_value(command: str, flag: str, number: str) -> str:
    return f"2,{number},1" if (command, flag) in TEXT_NUMBERS else number


BAD_NUMBERS = st.sampled_from(
    ["nan", "NaN", "inf", "-inf", "+inf", "1e400", "-1e400", "1e300", "99999999999999999999",
     "-1", "-0.5", "-99999999999", "2147483648000", "0x10", "", "1,5", "one"]
)  # fmt: skip


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(option=st.sampled_from(OPTIONS), number=BAD_NUMBERS)
def test_a_bad_number_is_a_one_line_usage_error(
    invoke: Invoke, option: tuple[str, str], number: str
) -> None:
    command, flag = option
    # In a list of sizes, "" and "1,5" are list syntax ("2,,1" is 2,1), not bad numbers.
    assume(option not in TEXT_NUMBERS or number not in ("", "1,5"))
    result = invoke(command, *BASE[command], flag, as_value(command, flag, number))
    assert result.exit_code == Exit.USAGE, (command, flag, number, result.output)
    assert_one_line_error(result.stderr, flag)
    assert result.stdout == ""


@pytest.mark.parametrize(
    "option", [o for o in OPTIONS if o[1] not in ZERO_OK], ids="{0[0]} {0[1]}".format
)
def test_zero_is_refused_where_it_means_nothing(invoke: Invoke, option: tuple[str, str]) -> None:
    command, flag = option
    result = invoke(command, *BASE[command], flag, as_value(command, flag, "0"))
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, flag)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--seed", "-1"], ["--seed", "-1 is not in the range 0<=x<=4294967295"]),
        (["--lr", "inf"], ["--lr", "'inf' is not a finite number"]),
        (["--lr", "nan"], ["--lr", "'nan' is not a finite number"]),
        (["--alpha", "nan"], ["--alpha", "'nan' is not a finite number"]),
        (["--tol", "nan"], ["--tol", "'nan' is not a finite number"]),
        (["--validation-fraction", "nan"], ["--validation-fraction", "not a finite number"]),
        (["--hidden", "99999999999"], ["--hidden", "not in the range 0<=x<=100000"]),
        (["--backend", "torch", "--device", "meta"], ["--device 'meta' cannot train here"]),
        (["--backend", "torch", "--device", "nonsense"], ["'nonsense' is not a torch device"]),
        # the estimator's checks in the command's words, not distributed=True, backend='torch'
        (["--distributed"], ["error: --distributed needs --backend torch"]),
        (
            [
                "--distributed",
                "--backend",
                "torch",
                "--dtype",
                "float32",
                "--precision",
                "bf16-mixed",
            ],
            ["error: --distributed trains in --precision full"],
        ),
    ],
)
def test_issue_13_option_reproducers(
    invoke: Invoke, sine_csv: Path, tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    out = tmp_path / "m.safetensors"
    result = invoke("fit", sine_csv, "--target", "y", "--out", out, "--epochs", 2, *args)
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, *fragments)
    assert not out.exists()


def test_gradcheck_negative_seed(invoke: Invoke) -> None:
    result = invoke("gradcheck", "--seed", "-5")
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "--seed", "-5 is not in the range")


def test_gradcheck_refuses_a_network_too_big_for_finite_differences(invoke: Invoke) -> None:
    result = invoke("gradcheck", "--sizes", "2,1000,1000,1")
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "1005001 parameters", "at most 20000")


def test_an_unknown_command_is_one_line(invoke: Invoke) -> None:
    result = invoke("fitt")
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "No such command 'fitt'", "see 'gradfit --help'")
