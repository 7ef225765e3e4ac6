"""The ``rulewright`` command line: thin handlers over rules_core and assistant.

Every command takes ``--json``; bad input exits non-zero with one line on stderr, never a
traceback. Commands live in ``ui/commands/*.py``, each module exposing ``register(app)``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from ui import commands

app = typer.Typer(
    name="rulewright",
    help="Plain-English rules for fulfilment: draft, validate, review, explain, export.",
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
