"""The `jsonp2cors` command line: parses options, calls the library, renders. No logic of its own.

Heavy modules (libcst, tree-sitter, starlette, rich) are imported inside each command so that
`jsonp2cors --help` and a command that does not need them stay fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from jsonp2cors import __version__

# Exit codes, linter conventions.
EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

app = typer.Typer(
    name="jsonp2cors",
    help="Move legacy web apps off JSONP and onto JSON + CORS without breaking a single caller.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policy_app = typer.Typer(help="Generate, lint and export the CORS policy (cors-policy.toml).", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jsonp2cors {__version__}")
        raise typer.Exit(EXIT_CLEAN)


@app.callback()
def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = None,
) -> None:
    """Move legacy web apps off JSONP and onto JSON + CORS."""


# ---------------------------------------------------------------------------------------------- scan
# (issue 2/3) owned by the scan/report work


# -------------------------------------------------------------------------------------------- policy
# (issue 4) policy generate / lint / export


# ------------------------------------------------------------------------------------------- rewrite
# (issue 6) rewrite / migrate / demo


# --------------------------------------------------------------------------------------------- usage
# (issue 5) usage summary of shim records


# -------------------------------------------------------------------------------------------- report
# (issue 7) HTML migration report


def main() -> None:
    """Console-script entry point; usage errors exit 2 (click's default) and internal errors too."""
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # an internal error must still exit 2 with one readable line
        typer.echo(f"jsonp2cors: internal error: {type(exc).__name__}: {exc}", err=True)
        raise SystemExit(EXIT_ERROR) from exc
