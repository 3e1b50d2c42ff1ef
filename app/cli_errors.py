"""How the ``iqt`` command reports a mistake: one line on stderr and a non-zero exit code.

An operator who mistypes an option, runs a command on a database that was never migrated or
starts it without the production settings is told what is wrong in one line that starts with
``error:``; the traceback is for the developer who asks for it with ``iqt --debug ...``. Like
app.cli, this module imports nothing heavy (no SQLAlchemy, no FastAPI).
"""

import sys
from collections.abc import Sequence
from typing import Any

import typer
from pydantic import ValidationError

# typer carries its own click; this error is how it shows a group's help when given no command.
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

DEBUG_OPTION = "--debug"
# Exit codes: 1 for a failure while running, 2 for a command used wrongly (as click does).
FAILED = 1


class OneLineErrors(TyperGroup):
    """The top-level ``iqt`` group: every error becomes one ``error: ...`` line on stderr,
    unless ``--debug`` was given, when an unexpected one is raised with its traceback."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        arguments = list(sys.argv[1:] if args is None else args)
        if not standalone_mode:
            return super().main(arguments, prog_name, complete_var, False, **extra)
        try:
            outcome = super().main(arguments, prog_name, complete_var, False, **extra)
        except NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except typer.TyperException as exc:
            if DEBUG_OPTION in arguments and not isinstance(exc, UsageError):
                raise
            typer.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(FAILED)
        except Exception as exc:
            if DEBUG_OPTION in arguments:
                raise
            typer.echo(f"error: {describe(exc)} (iqt {DEBUG_OPTION} shows the traceback)", err=True)
            sys.exit(FAILED)
        sys.exit(outcome if isinstance(outcome, int) else 0)


def describe(exc: BaseException) -> str:
    """One line saying what went wrong, without a traceback."""
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        return "invalid settings: " + "; ".join(_setting_error(e) for e in exc.errors())
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    message = lines[0] if lines else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _setting_error(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    names = [str(part) for part in error["loc"]]
    return f"IQT_{names[0].upper()}: {message}" if names else message
