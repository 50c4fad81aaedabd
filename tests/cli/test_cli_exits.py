"""The one place errors become exit codes, and what reaches the user."""

from __future__ import annotations

import pytest
from cli_helpers import Invoke, assert_one_line_error

from gradfit.cli.exits import EPILOG, Exit, as_command_error
from gradfit.errors import (
    DataError,
    DivergenceError,
    MissingDependencyError,
    ModelFileError,
    OutputPathError,
)

OOM = "Unable to allocate 9.16 MiB for an array with shape (1200001,) and data type float64"


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (DataError("bad\n cell"), Exit.BAD_DATA, "bad cell"),
        (ModelFileError("not a model"), Exit.BAD_MODEL, "not a model"),
        (DivergenceError("diverged", epoch=3), Exit.DIVERGED, "diverged"),
        (MissingDependencyError("torch is not installed"), Exit.MISSING_DEPENDENCY, "torch"),
        (PermissionError(13, "Permission denied", "out.csv"), Exit.FAILURE, "Permission denied"),
        (OutputPathError("cannot write 'out': it is a folder"), Exit.USAGE, "cannot write 'out'"),
        (KeyboardInterrupt(), Exit.INTERRUPTED, "interrupted"),
        (MemoryError(OOM), Exit.FAILURE, f"out of memory: {OOM}; train fewer or smaller"),
    ],
)
def test_each_error_type_has_its_code(error: BaseException, code: Exit, message: str) -> None:
    converted = as_command_error(error)
    assert converted is not None
    assert converted.exit_code == code
    assert converted.format_message().startswith(message)


def test_a_bug_is_not_disguised_as_a_user_error() -> None:
    assert as_command_error(ZeroDivisionError("bug")) is None


def test_every_code_is_in_the_help_table() -> None:
    for code in Exit:
        assert f"\n  {int(code):<4} " in EPILOG, code


@pytest.mark.parametrize(
    ("raised", "code", "fragments"),
    [
        (KeyboardInterrupt(), Exit.INTERRUPTED, ["interrupted"]),
        (MissingDependencyError("torch is not installed"), Exit.MISSING_DEPENDENCY, ["torch"]),
        (OSError(28, "No space left on device", "fig.png"), Exit.FAILURE, ["No space", "fig.png"]),
        # --ensemble 1000 --hidden 100000 (issue 16/17's pass): was a traceback.
        (MemoryError(OOM), Exit.FAILURE, ["out of memory", "9.16 MiB", "--ensemble, --hidden"]),
    ],
)
def test_a_command_failing_anywhere_prints_one_line(
    invoke: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
    raised: BaseException,
    code: Exit,
    fragments: list[str],
) -> None:
    from gradfit import demo

    def fail(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(demo, "run", fail)
    result = invoke("demo", "--out", tmp_path)
    assert result.exit_code == code
    assert_one_line_error(result.stderr, *fragments)


@pytest.mark.parametrize("value", ["maybe", ""])
def test_a_bad_kernel_switch_in_the_environment_is_a_usage_error(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: object, value: str
) -> None:
    # The training step read it after the data: a ValueError traceback, exit 1.
    monkeypatch.setenv("GRADFIT_KERNEL", value)
    result = invoke("demo", "--out", tmp_path)
    assert result.exit_code == Exit.USAGE
    assert result.stderr == (
        f"gradfit: error: GRADFIT_KERNEL must be one of auto, on, off; got {value!r} (from "
        "the environment): set one of those, or unset GRADFIT_KERNEL\n"
    )


def test_a_warning_raised_again_is_said_once(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    # The kernel's "cannot be cached on disk" came once per compiled function: 7 lines.
    import warnings

    from gradfit import demo

    def warn_twice(*args: object, **kwargs: object) -> None:
        for _ in range(2):
            warnings.warn_explicit("cannot be cached", UserWarning, f"k{_}.py", 1)

    monkeypatch.setattr(demo, "run", warn_twice)
    for _ in range(2):  # and again in the next run
        result = invoke("demo", "--out", tmp_path)
        assert result.exit_code == 0
        assert result.stderr == "gradfit: warning: cannot be cached\n"
