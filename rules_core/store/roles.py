"""Who may do what: users and roles from ``RULEWRIGHT_HOME/users.yaml``.

    # roles: author (propose, rebase, rollback), reviewer (approve, reject), admin (everything)
    users:
      alice: [author]
      bob: [reviewer]
      carol: [author, reviewer]
      dana: [admin]
    default: []        # roles of users who are not listed (default: none)

Without the file every user is author and reviewer, so the demo runs as is; the four-eyes
rule (no one approves their own proposal) holds either way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rules_core.errors import PermissionDenied, StoreError

ROLES = ("author", "reviewer", "admin")
OPEN_DEFAULT = frozenset({"author", "reviewer"})


@dataclass(frozen=True)
class Roles:
    users: dict[str, frozenset[str]] = field(default_factory=dict)
    default: frozenset[str] = OPEN_DEFAULT
    source: str = "built-in default (no users.yaml: every user is author and reviewer)"

    def of(self, user: str) -> frozenset[str]:
        return self.users.get(user, self.default)

    def has(self, user: str, role: str) -> bool:
        held = self.of(user)
        return role in held or "admin" in held

    def require(self, user: str, role: str, doing: str) -> None:
        if not self.has(user, role):
            raise PermissionDenied(f"{user} may not {doing}: that needs the {role} role (roles from {self.source})")


MAX_USER_LENGTH = 100


def valid_user(name: str) -> str:
    """``name`` when it can stand in the audit log as a user; StoreError otherwise. Leading or
    trailing spaces and control characters are refused: "bob " is not bob, and must not look like him."""
    if (not isinstance(name, str) or not name.strip() or name != name.strip() or len(name) > MAX_USER_LENGTH
            or not name.isprintable()):
        raise StoreError(f"{name!r} is not a valid user name (give --as USER or RULEWRIGHT_USER: printable, "
                         f"no leading or trailing spaces, at most {MAX_USER_LENGTH} characters)")
    return name


def load_roles(home: Path) -> Roles:
    path = home / "users.yaml"
    if not os.path.lexists(path):  # a symlink to nothing is a broken config, not "no config": fail closed
        return Roles()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise StoreError(f"{path}: cannot read users (it links to {os.path.realpath(path)}, which does not exist)") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise StoreError(f"{path}: cannot read users ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("users", {}), dict):
        raise StoreError(f"{path}: expected `users:` mapping each user to a list of roles")
    users = {}
    for name, raw in (data.get("users") or {}).items():
        if not isinstance(name, str):  # YAML reads `1:`, `true:`, `null:` as numbers, booleans, nothing
            kind = "nothing (null)" if name is None else f"the {type(name).__name__} {name!r}"
            raise StoreError(f"{path}: users: a user name must be text, but one was read as {kind}; "
                             "quote names that look like numbers, booleans or null (e.g. \"1\": [author])")
        users[name] = _roles(path, name, raw)
    return Roles(users=users, default=_roles(path, "default", data.get("default") or []), source=str(path))


def _roles(path: Path, who: str, raw: Any) -> frozenset[str]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or any(r not in ROLES for r in items):
        raise StoreError(f"{path}: roles of {who} must be a list of {', '.join(ROLES)}; got {raw!r}")
    return frozenset(items)
