"""The bundle export: the approved rule set with its version, hash, parent and approvals, as
one JSON file a runtime engine loads (and can check: ``ruleset`` is ``models.ruleset_hash``
of ``rules``).

    {"format": "rulewright.bundle", "schema_version": 1, "version": 4,
     "ruleset": "sha256:…", "parent": {"version": 3, "ruleset": "sha256:…"},
     "author": "alice", "approved_by": "bob", "approved_at": "…", "proposal": 7, "note": "…",
     "approvals": [{"reviewer": "bob", "comment": "…", "at": "…"}],
     "store_schema": "0001", "rules": [{…}, …]}

The same version always exports to the same bytes. Files are written atomically: a temporary
file in the target's folder, flushed to disk, then renamed over the target, so a reader or an
interrupted export never sees a partial file.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rules_core.errors import InputError
from rules_core.models import Rule, rule_json

BUNDLE_FORMAT = "rulewright.bundle"
BUNDLE_SCHEMA_VERSION = 1


def make_bundle(*, version: Any, parent: Any | None, rules: list[Rule], approvals: list[Any],
                store_schema: str) -> dict[str, Any]:
    """``version``/``parent`` are ``rules_core.store.Version``; ``approvals`` are ``Review``s."""
    return {
        "format": BUNDLE_FORMAT,
        "schema_version": BUNDLE_SCHEMA_VERSION,
        "version": version.number,
        "ruleset": version.ruleset,
        "parent": {"version": parent.number, "ruleset": parent.ruleset} if parent else None,
        "author": version.author,
        "approved_by": version.approver,
        "approved_at": _utc(version.created_at),
        "proposal": version.proposal,
        "note": version.note,
        "approvals": [{"reviewer": a.reviewer, "comment": a.comment, "at": _utc(a.at)} for a in approvals],
        "store_schema": store_schema,
        "rules": [rule_json(r) for r in sorted(rules, key=lambda r: r.id)],
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` so that ``path`` holds either the old or the complete new file."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    write_text_atomic(path, text)


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically. Only a regular file (or nothing) is ever replaced:
    a folder, a device such as /dev/null or a pipe at ``path`` is refused, not renamed over."""
    if not path.name or path.is_dir():
        raise InputError(f"{path}: is a folder; give the path of a file to write")
    if path.exists() and not path.is_file():
        raise InputError(f"{path}: is not a regular file (a device, pipe or socket); give the path of a file to write")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{path}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"{path}: cannot write in folder {folder} ({exc.strerror or exc.__class__.__name__})") from None
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes 0600; an export is meant to be read by others
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as exc:  # including KeyboardInterrupt: never leave the temporary file behind
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):  # disk full, quota, the target replaced by a folder meanwhile
            raise InputError(f"{path}: cannot write ({exc.strerror or exc or exc.__class__.__name__})") from None
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not every platform opens folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
