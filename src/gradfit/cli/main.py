"""The ``gradfit`` command group (``gradfit`` and ``python -m gradfit``)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import warnings
from typing import Any

import click

from gradfit import __version__
from gradfit.cli.commands import demo, gradcheck, report
from gradfit.cli.evaluate import evaluate
from gradfit.cli.exits import ARGV, EPILOG, CommandError, Exit, Terminated, as_command_error
from gradfit.cli.fit import fit
from gradfit.cli.outputs import SAID, warn_line
from gradfit.cli.playground import playground
from gradfit.cli.predict import predict


class _Group(click.Group):
    """A group that turns gradfit's errors into one-line messages and exit codes."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGV] = list(args)  # as given, for the ranks --nproc-per-node starts
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            _check_environment()
            with warnings.catch_warnings():
                # A library's warning (matplotlib, NumPy) is one line like gradfit's own,
                # not Python's "file:line: UserWarning: …" and the source line after it.
                warnings.showwarning = _one_line_warning
                SAID.clear()
                return super().invoke(ctx)
        except click.UsageError as exc:
            # One line, as every other error, with where to read more.
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            message, hint = exc.format_message(), _dashed_file(exc, ctx.meta.get(ARGV, []))
            if hint:
                message = message.rstrip(".") + hint
            raise CommandError(f"{message} (see '{where} --help')", Exit.USAGE) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # The reader of standard output went away (`gradfit predict … --out - | head`):
            # stop quietly, as other Unix tools do, and keep Python's flush at exit quiet too.
            _silence_stdout()
            raise click.exceptions.Exit(141) from None
        except (Exception, KeyboardInterrupt, Terminated) as exc:
            error = as_command_error(exc)
            if error is None:
                raise
            raise error from None


def _dashed_file(exc: click.UsageError, argv: list[str]) -> str:
    """Where an unknown option is the start of a file's name (``-data.csv``), how to
    name that file so that it is not read as options."""
    if not isinstance(exc, click.NoSuchOption):
        return ""
    files = [a for a in argv if a.startswith(exc.option_name) and os.path.isfile(a)]
    if not files:
        return ""
    return (
        f"; '{files[0]}' is a file, and an argument that begins with '-' is read as "
        f"options: write it ./{files[0]}"
    )


def _check_environment() -> None:
    """Refuse a ``GRADFIT_KERNEL`` the kernel would refuse, before any work (the
    training step read it after the data, and its ValueError was a traceback)."""
    from gradfit.engine.kernel import KERNEL_ENV, mode

    try:
        mode()
    except ValueError as exc:
        raise CommandError(
            f"{exc} (from the environment): set one of those, or unset {KERNEL_ENV}",
            Exit.USAGE,
        ) from None


def _one_line_warning(message: Warning | str, *args: Any, **kwargs: Any) -> None:
    warn_line(str(message))


@click.group(
    "gradfit", cls=_Group, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="gradfit")
def cli() -> None:
    """Fit functions with neural networks: a NumPy engine and PyTorch, side by side."""


for command in (fit, predict, evaluate, demo, gradcheck, report, playground):
    cli.add_command(command)


def _silence_stdout() -> None:
    """Point standard output at ``/dev/null``, dropping what waits in its buffer."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> Any:
    """Run the ``gradfit`` command line.

    SIGTERM (``kill``, a scheduler's time limit) raises :class:`Terminated` where the
    process is, so the ``finally`` blocks run and no temporary file is left beside an
    output; ``fit`` saves no checkpoint for it (an update may be half done), as it does
    for Ctrl-C between epochs. A closed standard output (``>&-``) is refused before
    any work: whatever the command would print there would be lost.
    """
    if sys.stdout is None:
        CommandError(
            "standard output is closed (>&-), and gradfit writes its report (and predict "
            "--out -, its predictions) there; send it to /dev/null or a file instead",
            Exit.USAGE,
        ).show()
        sys.exit(Exit.USAGE)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if main_thread else None
    try:
        return cli.main(args=argv, prog_name="gradfit")
    except OSError as exc:
        # Writing --help or --version (> /dev/full), before a command runs; click ends
        # a broken pipe itself.
        error = as_command_error(exc)
        assert error is not None  # every OSError is one
        _silence_stdout()  # else Python's flush at exit fails on it again, with a traceback
        error.show()
        sys.exit(error.exit_code)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
