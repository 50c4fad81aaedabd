"""The exit code of a run whose ranks ``--nproc-per-node`` started, from the ranks' codes
(negative: ended by that signal), and the line for a rank that could say nothing."""

from __future__ import annotations

import pytest

from gradfit.cli.launch import _exit_code


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ({0: 3, 1: 3}, 3),  # bad data: every rank says 3, rank 0 printed the line
        ({0: 5, 1: 5}, 5),  # diverged
        ({0: 130, 1: 1}, 130),  # Ctrl-C: rank 0 saved the checkpoint; rank 1 lost its peer
        ({0: 3, 1: -15}, 3),  # rank 1 stopped by the agent's SIGTERM before it could say
        ({0: 143, 1: 3}, 3),  # rank 0 stopped by the agent's SIGTERM, said as gradfit's 143
        ({1: 2}, 2),  # only rank 1 failed
    ],
)
def test_the_first_rank_that_said_why_gives_the_code(
    codes: dict[int, int], expected: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_code(codes) == expected
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("codes", "line"),
    [
        ({0: 1, 1: -9}, "process 1 was ended by SIGKILL"),
        ({0: -15, 1: -15}, "process 0 was ended by SIGTERM"),
        ({0: 143, 1: 143}, "process 0 was ended by SIGTERM"),
        ({0: 1, 1: -200}, "process 1 was ended by signal 200"),
    ],
)
def test_a_rank_ended_by_a_signal_is_named_and_the_run_exits_1(
    codes: dict[int, int], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _exit_code(codes) == 1
    assert capsys.readouterr().err == (
        f"gradfit: error: {line} (killed, or out of memory); rerun with --resume to continue "
        "from the last checkpoint\n"
    )
