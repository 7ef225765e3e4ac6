"""The ``rulewright`` command line: thin handlers over rules_core and assistant.

Every command takes ``--json``; bad input exits non-zero with one line on stderr, never a
traceback. Commands live in ``ui/commands/*.py``, each module exposing ``register(app)``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import TYPE_CHECKING, Any, Callable

import typer
from typer.core import TyperGroup

from ui import commands

if TYPE_CHECKING:
    from typer._click.exceptions import NoArgsIsHelpError
else:
    try:  # typer vendors click from 0.24 on
        from typer._click.exceptions import NoArgsIsHelpError
    except ImportError:  # pragma: no cover - older typer on the real click
        from click.exceptions import NoArgsIsHelpError


class OneLineErrors(TyperGroup):
    """Usage errors (unknown option, missing argument, bad value) as one line on stderr, like
    every other failure, instead of a usage box: ``rulewright: reject: Missing option '--reason'.``"""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        parent_main: Callable[..., Any] = super().main
        if not standalone_mode:
            return parent_main(*args, standalone_mode=False, **kwargs)
        try:
            rv = parent_main(*args, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as exc:  # `rulewright` or `rulewright review` alone: the help
            help_text = exc.format_message()  # empty when rich has printed it already
            if help_text.strip():
                print(help_text)
            sys.exit(exc.exit_code)
        except typer.TyperException as exc:
            print(f"rulewright: {usage_error_line(exc)}", file=sys.stderr)
            sys.exit(exc.exit_code)
        except typer.Abort:
            print("rulewright: aborted", file=sys.stderr)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


def usage_error_line(exc: Any) -> str:
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return message
    path = ctx.command_path
    command = path.split(" ", 1)[1] if " " in path else ""
    return f"{command + ': ' if command else ''}{message} (see `{path} --help`)"


app = typer.Typer(
    name="rulewright",
    help="Plain-English rules for fulfilment: draft, validate, review, explain, export.",
    cls=OneLineErrors,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"ui.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        print("rulewright: interrupted", file=sys.stderr)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
