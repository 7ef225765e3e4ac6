"""Shared plumbing of the command line: settings, catalog, output and one-line failures."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, TypeVar

import typer
from rich.console import Console

from rules_core.catalog import Catalog, load_catalog
from rules_core.errors import RulewrightError
from rules_core.settings import CoreSettings

F = TypeVar("F", bound=Callable[..., Any])

console = Console(highlight=False, soft_wrap=True)
JSON_OPT = typer.Option(False, "--json", help="machine-readable JSON on stdout")
CATALOG_OPT = typer.Option(None, "--catalog", help="catalog folder (default: RULEWRIGHT_CATALOG or the demo catalog)")


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr and a non-zero exit."""
    print(f"rulewright: {message}", file=sys.stderr)
    raise typer.Exit(code)


def friendly(fn: F) -> F:
    """Turn every user-caused error into a one-line failure (and any other error too: no tracebacks)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except RulewrightError as exc:
            fail(str(exc))
        except Exception as exc:  # a bug: still one line, with the kind of error for the report
            fail(f"internal error ({exc.__class__.__name__}: {exc}); please report it")

    return wrapper  # type: ignore[return-value]


@functools.lru_cache(maxsize=1)
def settings() -> CoreSettings:
    return CoreSettings()


def get_catalog(path: Path | None = None) -> Catalog:
    return load_catalog(path or settings().catalog)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def acting_user(as_user: str | None) -> str:
    return as_user or settings().user
