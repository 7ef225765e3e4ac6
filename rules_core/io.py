"""Reading rules and orders from files and JSON values, with one-line errors that say where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rules_core.errors import InputError, OrderError
from rules_core.findings import pointer
from rules_core.models import Order


def read_json(path: str | Path) -> Any:
    """Parse a JSON file; InputError names the file, line and column on failure."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows editors) is not an error
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a folder, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read ({exc.__class__.__name__})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}:{exc.lineno}:{exc.colno}: malformed JSON ({exc.msg})") from None


def raw_rules(data: Any, source: str = "rules") -> list[Any]:
    """The list of raw rule objects from a rules document (a list, {"rules": [...]}, or one rule)."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("rules"), list):
        return data["rules"]
    if isinstance(data, dict) and "then" in data:
        return [data]
    raise InputError(f'{source}: expected a JSON list of rules or {{"rules": [...]}}')


def error_where(err: ValidationError) -> str:
    first = err.errors()[0]
    return f"{pointer(*first['loc']) or '/'}: {first['msg']}"


def parse_orders(data: Any, source: str = "orders") -> list[Order]:
    """Orders from one order object or a list; OrderError names the order and the place."""
    items = data if isinstance(data, list) else [data]
    orders = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise OrderError(f"{source}: order #{i} is not a JSON object")
        try:
            orders.append(Order.model_validate(item))
        except ValidationError as exc:
            name = item.get("id") if isinstance(item.get("id"), str) else f"#{i}"
            raise OrderError(f"{source}: order {name} at {error_where(exc)}") from None
    return orders


def load_orders(path: str | Path) -> list[Order]:
    return parse_orders(read_json(path), str(path))
