"""``gradfit playground``: the live page, served locally (needs the ``playground`` extra)."""

from __future__ import annotations

import click

from gradfit.cli.exits import EPILOG
from gradfit.errors import require


@click.command(epilog=EPILOG)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but 127.0.0.1 lets other machines in.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option("--no-browser", is_flag=True, help="Do not open the page in a web browser.")
def playground(host: str, port: int, no_browser: bool) -> None:
    """Watch a network learn, live in the browser, and export the command that repeats it."""
    require("starlette", "playground")
    require("uvicorn", "playground")
    from gradfit.playground.server import serve

    serve(host, port, open_browser=not no_browser)
