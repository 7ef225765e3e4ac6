"""Rule-level differences between two rule sets, and merging a proposal onto its base."""

from __future__ import annotations

from typing import Any, Iterable

from pydantic import BaseModel, Field

from rules_core.findings import pointer
from rules_core.models import Rule, rule_json


class FieldChange(BaseModel):
    path: str  # JSON pointer into the rule, e.g. /then/0/service
    before: Any = None
    after: Any = None


class ChangedRule(BaseModel):
    id: str
    fields: list[FieldChange]
    before: dict[str, Any]
    after: dict[str, Any]


class RuleDiff(BaseModel):
    added: list[dict[str, Any]] = Field(default_factory=list)
    removed: list[dict[str, Any]] = Field(default_factory=list)
    changed: list[ChangedRule] = Field(default_factory=list)
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


_ABSENT = object()


def field_changes(before: Any, after: Any, path: tuple[Any, ...] = ()) -> list[FieldChange]:
    """Leaf-level differences: objects by key, equal-length lists by position, else whole values."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[FieldChange] = []
        for key in sorted(set(before) | set(after)):
            b, a = before.get(key, _ABSENT), after.get(key, _ABSENT)
            if b is _ABSENT or a is _ABSENT:
                out.append(FieldChange(path=pointer(*path, key), before=None if b is _ABSENT else b,
                                       after=None if a is _ABSENT else a))
            else:
                out.extend(field_changes(b, a, (*path, key)))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [c for i, (b, a) in enumerate(zip(before, after)) for c in field_changes(b, a, (*path, i))]
    return [FieldChange(path=pointer(*path), before=before, after=after)]


def rule_diff(before: Iterable[Rule], after: Iterable[Rule]) -> RuleDiff:
    old = {r.id: rule_json(r) for r in before}
    new = {r.id: rule_json(r) for r in after}
    diff = RuleDiff(added=[new[i] for i in sorted(new.keys() - old.keys())],
                    removed=[old[i] for i in sorted(old.keys() - new.keys())])
    for rid in sorted(old.keys() & new.keys()):
        if old[rid] == new[rid]:
            diff.unchanged += 1
        else:
            diff.changed.append(ChangedRule(id=rid, fields=field_changes(old[rid], new[rid]),
                                            before=old[rid], after=new[rid]))
    return diff


def merge(base: Iterable[Rule], changes: Iterable[Rule], removes: Iterable[str]) -> list[Rule]:
    """The base with changed rules replaced (or added) by id and removed ids dropped, sorted by id."""
    merged = {r.id: r for r in base}
    for rid in removes:
        merged.pop(rid, None)
    merged.update({r.id: r for r in changes})
    return [merged[k] for k in sorted(merged)]
