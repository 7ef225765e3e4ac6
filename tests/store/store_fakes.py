"""Test doubles and shared functions of the store tests (importable by child processes)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rules_core.findings import Finding
from rules_core.models import Rule
from rules_core.store import Store
from rules_core.store.roles import Roles


class FakeChecker:
    """Fast, deterministic checks: rules whose id starts with ``bad-`` have an error finding;
    rules named ``TIE`` a warning. The impact counts rule-level differences."""

    def findings(self, changed: list[Rule], others: list[Rule]) -> list[Finding]:
        out = [Finding(code="bad_rule", severity="error", message=f"rule {r.id} is bad", path=f"/rules/{r.id}")
               for r in changed if r.id.startswith("bad-")]
        out += [Finding(code="priority_tie", severity="warning", message="tie") for r in changed if r.name == "TIE"]
        return out

    def impact(self, current: list[Rule], proposed: list[Rule]) -> dict[str, Any]:
        before = {r.id: r for r in current}
        after = {r.id: r for r in proposed}
        changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
        return {"orders": 10, "changed": len(set(before) ^ set(after)) + len(changed),
                "added_rules": sorted(after.keys() - before.keys()), "removed_rules": sorted(before.keys() - after.keys()),
                "changed_rules": changed}


def tag_rule(rid: str, tag: str = "t", priority: int = 100, **kw: Any) -> Rule:
    return Rule.model_validate({"id": rid, "priority": priority, "then": [{"action": "add_tag", "tag": tag}], **kw})


def open_store(url: str, roles: Roles | None = None, **hooks: Any) -> Store:
    return Store.open(url, roles=roles or Roles(), checker=FakeChecker(), hooks=dict(hooks) or None)


# --- child processes ------------------------------------------------------------------


def approve_in_process(url: str, proposal: int, reviewer: str, barrier: Any, where: str, out: Any) -> None:
    """Approve ``proposal`` after all processes reach ``barrier`` at hook ``where``; report the outcome."""

    def meet() -> None:
        barrier.wait(timeout=90)

    store = open_store(url, **{where: meet})
    try:
        version = store.approve(proposal, reviewer)
        out.put((proposal, "approved", version.number))
    except Exception as exc:  # reported to the parent, which asserts on it
        out.put((proposal, type(exc).__name__, str(exc)))
    finally:
        store.close()


def hang_in_approval(url: str, proposal: int, reviewer: str, flag: str) -> None:
    """Approve, but stop inside the transaction after writing the version, until killed."""

    def hang() -> None:
        Path(flag).write_text("in transaction")
        time.sleep(120)

    store = open_store(url, **{"approve:version-written": hang})
    store.approve(proposal, reviewer)


def open_only(url: str, barrier: Any, out: Any) -> None:
    """Open (and so migrate) a fresh store at the same moment as other processes."""
    barrier.wait(timeout=90)
    try:
        open_store(url).close()
        out.put("ok")
    except Exception as exc:
        out.put(f"{type(exc).__name__}: {exc}")


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every store table (and the schema revision), in primary-key order."""
    from sqlalchemy import select as sa_select, text

    from rules_core.store.schema import store_registry

    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        for table in store_registry.metadata.sorted_tables:
            rows = conn.execute(sa_select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
        out["alembic_version"] = [tuple(r) for r in conn.execute(text("SELECT version_num FROM alembic_version"))]
    return out
