"""The review workflow as a Python API: propose, review, approve or reject, rebase, roll back,
export, and the audit trail. The command line and the review app are thin layers over it.

    store = Store.open()                                  # RULEWRIGHT_DATABASE_URL or SQLite in the home
    p = store.propose(rules, author="alice", note="heavy parcels")
    store.diff(p.id)                                      # rule-level diff and dry-run impact
    version = store.approve(p.id, reviewer="bob")         # four eyes, re-validated, compare-and-swap
    store.export_bundle("ruleset.json")

Every refusal is a ``rules_core.errors.StoreError`` with a one-line message: ``NotFound``,
``PermissionDenied`` (role, four eyes), ``Conflict`` (the active version moved: rebase), or
``InvalidProposal`` (error findings; it is also a ``RuleSetError`` carrying them).

Approval runs validation and the dry run first, outside any transaction, then in one
transaction: lock the active pointer, check it still is the proposal's base, write the
version, move the pointer (``UPDATE ... WHERE version_id = base``), close the proposal,
record the review, append to the audit log. Anything failing on the way rolls all of it back.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from rules_core.errors import Conflict, NotFound, PermissionDenied, RuleSetError, StoreError
from rules_core.findings import Finding, has_errors
from rules_core.models import Rule, canonical_json, rule_json, ruleset_hash
from rules_core.settings import CoreSettings
from rules_core.store import audit, db
from rules_core.store.checks import Checker, DryRun
from rules_core.store.diff import RuleDiff, merge, rule_diff
from rules_core.store.roles import Roles, load_roles, valid_user
from rules_core.store.schema import (ActiveRow, ProposalRow, ReviewRow, RuleSetRow, VersionRow,
                                     utcnow)

Status = Literal["draft", "submitted", "approved", "rejected"]
OPEN = ("draft", "submitted")


RuleChangeKind = Literal["added", "changed", "unchanged", "removed"]


class InvalidProposal(StoreError, RuleSetError):
    """Approval refused because the proposal has error findings (``.findings``)."""


class Provenance(BaseModel):
    """Where a proposal came from."""

    request: str | None = None  # the plain-English request text
    source: Literal["parser", "model", "manual", "rollback"] = "manual"
    model: str | None = None  # model name, when a model wrote the rules
    usage: dict[str, Any] | None = None  # token usage reported by the model


class Review(BaseModel):
    reviewer: str
    decision: Literal["approved", "rejected"]
    comment: str = ""
    at: datetime


class Proposal(BaseModel):
    id: int
    author: str
    note: str
    status: Status
    base_version: int | None
    rules: list[Rule]  # the rules it adds or changes, merged by id onto the base
    removes: list[str]  # the ids it removes
    provenance: Provenance
    findings: list[Finding] = Field(default_factory=list)
    impact: dict[str, Any] | None = None  # dry-run summary against checked_against
    checked_against: int | None = None
    result_version: int | None = None
    created_at: datetime
    updated_at: datetime
    reviews: list[Review] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = self.model_dump(mode="json", exclude={"rules"})
        out["rules"] = [rule_json(r) for r in self.rules]
        return out


class Version(BaseModel):
    number: int
    ruleset: str  # sha256 of the canonical rule set
    parent: int | None
    author: str
    approver: str
    proposal: int | None
    note: str
    created_at: datetime
    rule_count: int
    active: bool = False


class ProposalDiff(BaseModel):
    proposal: int
    status: Status
    base_version: int | None
    active_version: int | None
    stale: bool  # the active version moved since the base: rebase before approving
    diff: RuleDiff
    findings: list[Finding]
    impact: dict[str, Any] | None
    checked_against: int | None


def _rules_from(text: str) -> list[Rule]:
    return [Rule.model_validate(r) for r in json.loads(text)]


def _rules_text(rules: Iterable[Rule]) -> str:
    return canonical_json([rule_json(r) for r in sorted(rules, key=lambda r: r.id)])


_MAX_ID = 2**63 - 1  # the largest id a database integer column holds


def _is_number(text: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true, but ``int("²")`` fails."""
    return text.isascii() and text.isdigit()


def _proposal_id(ref: int | str) -> int:
    text = str(ref).strip().lstrip("#").removeprefix("P").removeprefix("p")
    if not _is_number(text):
        raise NotFound(f"no proposal {ref!r}: proposal ids are numbers (see `rulewright review list`)")
    if int(text) > _MAX_ID:
        raise NotFound(f"no proposal {text} (see `rulewright review list`)")
    return int(text)


def repeated_rule_id(rules: Iterable[Rule]) -> str | None:
    """Where a rule id appears a second time ("/1/id: rule id 'a' appears twice (also at /0/id)"), or None."""
    first: dict[str, int] = {}
    for i, r in enumerate(rules):
        if r.id in first:
            return f"/{i}/id: rule id {r.id!r} appears twice (also at /{first[r.id]}/id)"
        first[r.id] = i
    return None


class Store:
    """The rule store. Open with ``Store.open()``; close with ``close()`` or a ``with`` block."""

    def __init__(self, engine: Engine, *, roles: Roles | None = None, checker: Checker | None = None,
                 hooks: dict[str, Callable[[], None]] | None = None) -> None:
        self.engine = engine
        self.roles = roles or Roles()
        self.checker: Checker = checker or DryRun()
        # Named points inside approval where tests inject failures and pauses.
        self.hooks = hooks or {}
        self._reader = engine.execution_options(rulewright_read=True)

    @classmethod
    def open(cls, url: str | None = None, *, settings: CoreSettings | None = None, roles: Roles | None = None,
             checker: Checker | None = None, migrate: bool = True,
             hooks: dict[str, Callable[[], None]] | None = None) -> "Store":
        settings = settings or CoreSettings()
        if url is None and db.is_memory_url(settings.store_url):
            raise StoreError("RULEWRIGHT_DATABASE_URL names an in-memory SQLite database, which forgets every "
                             "proposal when the command ends; give a file (sqlite:////path/to/store.sqlite)")
        engine = db.make_engine(url or settings.store_url)
        if migrate:
            db.upgrade(engine)
        return cls(engine, roles=roles or load_roles(settings.home),
                   checker=checker or DryRun(catalog_dir=settings.catalog), hooks=hooks)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- sessions -----------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with Session(self._reader, expire_on_commit=False) as s:
                yield s
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the store at {db.safe_url(str(self.engine.url))}: {db.first_line(exc)}") from None

    @contextmanager
    def _write(self) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as s, s.begin():
                s.connection()  # begin now (BEGIN IMMEDIATE on SQLite): queue for the write lock first
                yield s
        except SQLAlchemyError as exc:
            raise StoreError(f"the store refused the change: {db.first_line(exc)}") from None

    def _hook(self, name: str) -> None:
        if name in self.hooks:
            self.hooks[name]()

    # --- versions -----------------------------------------------------------------------

    def active_version(self) -> Version | None:
        with self._read() as s:
            active = s.get(ActiveRow, 1)
            return self._version(s, active.version_id, active.version_id) if active and active.version_id else None

    def active_rules(self) -> list[Rule]:
        with self._read() as s:
            return self._rules_at(s, self._active_id(s))

    def history(self) -> list[Version]:
        with self._read() as s:
            active = self._active_id(s)
            rows = s.exec(select(VersionRow).order_by(VersionRow.id.desc())).all()  # type: ignore[union-attr]
            counts = self._rule_counts(s, {r.ruleset for r in rows})
            return [self._version_of(r, counts[r.ruleset], active) for r in rows]

    def get_version(self, ref: int | str) -> Version:
        with self._read() as s:
            return self._version(s, self._version_id(s, ref), self._active_id(s))

    def version_rules(self, ref: int | str) -> list[Rule]:
        with self._read() as s:
            return self._rules_at(s, self._version_id(s, ref))

    def rule_history(self, rule_id: str) -> list[tuple[Version, RuleChangeKind]]:
        """Each approved version that held the rule or dropped it, oldest first, with whether the
        rule was added, changed, unchanged or removed there. Reads every version's rules, which
        suits the hundreds of versions a team makes."""
        out: list[tuple[Version, RuleChangeKind]] = []
        previous = None
        for version in reversed(self.history()):
            current = next((rule_json(r) for r in self.version_rules(version.number) if r.id == rule_id), None)
            if current is not None:
                out.append((version, "added" if previous is None else "changed" if current != previous else "unchanged"))
            elif previous is not None:
                out.append((version, "removed"))
            previous = current
        return out

    def _active_id(self, s: Session) -> int | None:
        row = s.get(ActiveRow, 1)
        return row.version_id if row else None

    def _rules_at(self, s: Session, version_id: int | None) -> list[Rule]:
        if version_id is None:
            return []
        row = s.exec(select(RuleSetRow).join(VersionRow, col(VersionRow.ruleset) == col(RuleSetRow.hash))
                     .where(VersionRow.id == version_id)).one()
        return _rules_from(row.rules)

    def _rule_counts(self, s: Session, hashes: set[str]) -> dict[str, int]:
        if not hashes:
            return {}
        rows = s.exec(select(RuleSetRow.hash, RuleSetRow.rule_count).where(RuleSetRow.hash.in_(hashes)))  # type: ignore[attr-defined]
        return dict(rows.all())

    def _version(self, s: Session, version_id: int | None, active: int | None) -> Version:
        row = s.get(VersionRow, version_id) if version_id is not None else None
        if row is None:
            raise NotFound(f"no version {version_id} (see `rulewright history`)")
        return self._version_of(row, self._rule_counts(s, {row.ruleset})[row.ruleset], active)

    @staticmethod
    def _version_of(row: VersionRow, rule_count: int, active: int | None) -> Version:
        return Version(number=row.id, ruleset=row.ruleset, parent=row.parent_id, author=row.author,  # type: ignore[arg-type]
                       approver=row.approver, proposal=row.proposal_id, note=row.note,
                       created_at=row.created_at, rule_count=rule_count, active=row.id == active)

    def _version_id(self, s: Session, ref: int | str) -> int:
        """A version by number (``3``, ``v3``) or by its hash or a prefix of it (the newest such)."""
        text = str(ref).strip()
        number = text.removeprefix("v").removeprefix("V")
        if _is_number(number):
            if int(number) > _MAX_ID or s.get(VersionRow, int(number)) is None:
                raise NotFound(f"no version {number} (see `rulewright history`)")
            return int(number)
        prefix = text if text.startswith("sha256:") else "sha256:" + text
        if len(prefix) < len("sha256:") + 6:
            raise NotFound(f"no version {ref!r}: give a version number or at least 6 characters of its hash")
        rows = s.exec(select(VersionRow).where(VersionRow.ruleset.startswith(prefix))  # type: ignore[attr-defined]
                      .order_by(VersionRow.id.desc())).all()  # type: ignore[union-attr]
        if not rows:
            raise NotFound(f"no version with hash {prefix}… (see `rulewright history`)")
        if len({r.ruleset for r in rows}) > 1:
            raise NotFound(f"hash prefix {prefix} matches several rule sets; give more characters")
        return rows[0].id  # type: ignore[return-value]

    # --- proposals ----------------------------------------------------------------------

    def list_proposals(self, status: Status | None = None) -> list[Proposal]:
        with self._read() as s:
            query = select(ProposalRow).order_by(ProposalRow.id.desc())  # type: ignore[union-attr]
            if status:
                query = query.where(ProposalRow.status == status)
            return [self._proposal_of(s, row) for row in s.exec(query).all()]

    def get_proposal(self, ref: int | str) -> Proposal:
        with self._read() as s:
            return self._proposal_of(s, self._proposal_row(s, ref))

    def _proposal_row(self, s: Session, ref: int | str) -> ProposalRow:
        row = s.get(ProposalRow, _proposal_id(ref))
        if row is None:
            raise NotFound(f"no proposal {ref} (see `rulewright review list`)")
        return row

    def _proposal_of(self, s: Session, row: ProposalRow) -> Proposal:
        reviews = s.exec(select(ReviewRow).where(ReviewRow.proposal_id == row.id).order_by(ReviewRow.id)).all()  # type: ignore[arg-type]
        return Proposal(
            id=row.id, author=row.author, note=row.note, status=row.status,  # type: ignore[arg-type]
            base_version=row.base_version, rules=_rules_from(row.changes), removes=json.loads(row.removes),
            provenance=Provenance(request=row.request_text, source=row.source, model=row.model_name,  # type: ignore[arg-type]
                                  usage=json.loads(row.usage) if row.usage else None),
            findings=[Finding.model_validate(f) for f in json.loads(row.findings)],
            impact=json.loads(row.impact) if row.impact else None, checked_against=row.checked_against,
            result_version=row.result_version, created_at=row.created_at, updated_at=row.updated_at,
            reviews=[Review(reviewer=r.reviewer, decision=r.decision, comment=r.comment, at=r.created_at)  # type: ignore[arg-type]
                     for r in reviews])

    def diff(self, ref: int | str) -> ProposalDiff:
        """The rule-level diff of a proposal against its base, with its findings and impact."""
        with self._read() as s:
            row = self._proposal_row(s, ref)
            active = self._active_id(s)
            base_rules = self._rules_at(s, row.base_version)
        merged = merge(base_rules, _rules_from(row.changes), json.loads(row.removes))
        p = self.get_proposal(row.id)  # type: ignore[arg-type]
        return ProposalDiff(proposal=p.id, status=p.status, base_version=p.base_version, active_version=active,
                            stale=p.status in OPEN and p.base_version != active,
                            diff=rule_diff(base_rules, merged), findings=p.findings, impact=p.impact,
                            checked_against=p.checked_against)

    def _check(self, base_rules: list[Rule], changes: list[Rule], removes: list[str]) -> tuple[list[Finding], dict[str, Any]]:
        merged = merge(base_rules, changes, removes)
        changed_ids = {r.id for r in changes}
        findings = self.checker.findings(list(changes), [r for r in merged if r.id not in changed_ids])
        return findings, self.checker.impact(base_rules, merged)

    @staticmethod
    def _changes(base: list[Rule], rules: list[Rule], removes: Iterable[str], full: bool) -> tuple[list[Rule], list[str]]:
        repeated = repeated_rule_id(rules)
        if repeated is not None:
            raise StoreError(f"the proposal's {repeated}")
        seen = {r.id for r in rules}
        by_id = {r.id: rule_json(r) for r in base}
        removes = sorted(set(by_id) - seen) if full else sorted(set(removes))
        for rid in removes:
            if rid not in by_id:
                raise NotFound(f"cannot remove rule {rid!r}: it is not in the active rule set")
            if rid in seen:
                raise StoreError(f"rule {rid!r} is both changed and removed in the proposal")
        changes = sorted((r for r in rules if by_id.get(r.id) != rule_json(r)), key=lambda r: r.id)
        if not changes and not removes:
            raise StoreError("the proposal changes nothing: its rules are identical to the active rule set")
        return changes, removes

    def propose(self, rules: Iterable[Rule], author: str, note: str = "", provenance: Provenance | None = None, *,
                full: bool = False, removes: Iterable[str] = (), submit: bool = True) -> Proposal:
        """A proposal against the active version: ``rules`` are added or replace rules with the same
        id (with ``full``, they are the complete new set and missing ids are removed)."""
        valid_user(author)
        self.roles.require(author, "author", "propose rule changes")
        with self._read() as s:
            base = self._active_id(s)
            base_rules = self._rules_at(s, base)
        changes, removed = self._changes(base_rules, list(rules), removes, full)
        findings, impact = self._check(base_rules, changes, removed)
        prov, now = provenance or Provenance(), utcnow()
        with self._write() as s:
            row = ProposalRow(author=author, note=note, status="submitted" if submit else "draft", base_version=base,
                              changes=_rules_text(changes), removes=canonical_json(removed),
                              request_text=prov.request, source=prov.source, model_name=prov.model,
                              usage=canonical_json(prov.usage) if prov.usage is not None else None,
                              findings=canonical_json([f.model_dump() for f in findings]),
                              impact=canonical_json(impact), checked_against=base, created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            audit.append(s, author, "propose", f"proposal:{row.id}",
                         {"base_version": base, "changes": [r.id for r in changes], "removes": removed,
                          "status": row.status, "source": prov.source, "note": note})
        return self.get_proposal(row.id)  # type: ignore[arg-type]

    def submit(self, ref: int | str, user: str) -> Proposal:
        valid_user(user)
        with self._read() as s:
            row = self._proposal_row(s, ref)
        if user != row.author:
            raise PermissionDenied(f"only {row.author}, its author, can submit proposal {row.id}")
        self._move(row, user, "submit", "submitted", expect=("draft",))
        return self.get_proposal(row.id)  # type: ignore[arg-type]

    def reject(self, ref: int | str, reviewer: str, reason: str) -> Proposal:
        """Close a proposal without applying it (a reviewer's decision, or its author withdrawing it)."""
        valid_user(reviewer)
        if not reason.strip():
            raise StoreError("a rejection needs a reason (--reason TEXT)")
        with self._read() as s:
            row = self._proposal_row(s, ref)
        if reviewer != row.author:
            self.roles.require(reviewer, "reviewer", "reject proposals")
        self._move(row, reviewer, "reject", "rejected", expect=OPEN, reason=reason)
        return self.get_proposal(row.id)  # type: ignore[arg-type]

    def _move(self, row: ProposalRow, user: str, action: str, status: str, expect: tuple[str, ...],
              reason: str | None = None) -> None:
        if row.status not in expect:
            raise Conflict(f"proposal {row.id} is {row.status}; cannot {action} it")
        now = utcnow()
        with self._write() as s:
            moved = s.exec(update(ProposalRow).where(ProposalRow.id == row.id, ProposalRow.status == row.status)  # type: ignore[arg-type]
                           .values(status=status, updated_at=now))
            if moved.rowcount != 1:
                raise Conflict(f"proposal {row.id} changed meanwhile; look at it again")
            if reason is not None:
                s.add(ReviewRow(proposal_id=row.id, reviewer=user, decision="rejected", comment=reason, created_at=now))  # type: ignore[arg-type]
            audit.append(s, user, action, f"proposal:{row.id}", {"status": status, "reason": reason})

    def rebase(self, ref: int | str, user: str) -> Proposal:
        """Move an open proposal onto the active version and re-run validation and the dry run."""
        valid_user(user)
        with self._read() as s:
            row = self._proposal_row(s, ref)
            base = self._active_id(s)
            base_rules = self._rules_at(s, base)
        if row.status not in OPEN:
            raise Conflict(f"proposal {row.id} is {row.status}; only open proposals can be rebased")
        if user != row.author and not self.roles.has(user, "admin"):
            raise PermissionDenied(f"only {row.author}, its author, or an admin can rebase proposal {row.id}")
        present = {r.id for r in base_rules}
        removes = [rid for rid in json.loads(row.removes) if rid in present]
        findings, impact = self._check(base_rules, _rules_from(row.changes), removes)
        with self._write() as s:
            moved = s.exec(update(ProposalRow).where(  # type: ignore[arg-type]
                col(ProposalRow.id) == row.id, col(ProposalRow.status) == row.status,
                ProposalRow.base_version.is_not_distinct_from(row.base_version))  # type: ignore[union-attr]
                .values(base_version=base, removes=canonical_json(removes), checked_against=base,
                        findings=canonical_json([f.model_dump() for f in findings]),
                        impact=canonical_json(impact), updated_at=utcnow()))
            if moved.rowcount != 1:
                raise Conflict(f"proposal {row.id} changed meanwhile; look at it again")
            audit.append(s, user, "rebase", f"proposal:{row.id}", {"from": row.base_version, "to": base})
        return self.get_proposal(row.id)  # type: ignore[arg-type]

    # --- approval -----------------------------------------------------------------------

    def approve(self, ref: int | str, reviewer: str, comment: str = "") -> Version:
        """Apply a submitted proposal as the new active version (see the module docstring)."""
        valid_user(reviewer)
        with self._read() as s:
            row = self._proposal_row(s, ref)
            active = self._active_id(s)
            base_rules = self._rules_at(s, row.base_version)
        self._may_approve(row, reviewer)
        if active != row.base_version:
            raise self._stale(row, active)
        changes, removes = _rules_from(row.changes), json.loads(row.removes)
        findings, impact = self._check(base_rules, changes, removes)
        if has_errors(findings):
            errors = [f for f in findings if f.severity == "error"]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise InvalidProposal(f"proposal {row.id} has error findings, so it cannot be approved: {errors[0]}{more}",
                                  findings)
        merged = merge(base_rules, changes, removes)
        if row.base_version is not None and ruleset_hash(merged) == ruleset_hash(base_rules):
            raise StoreError(f"proposal {row.id} changes nothing against version {row.base_version} "
                             f"(its changes are already active); reject it instead")
        self._hook("approve:checked")
        try:
            return self._commit_approval(row, reviewer, comment, merged, findings, impact)
        except Conflict:
            raise self._lost_race(row) from None

    def _may_approve(self, row: ProposalRow, reviewer: str) -> None:
        if row.status == "draft":
            raise Conflict(f"proposal {row.id} is a draft; its author must submit it first")
        if row.status != "submitted":
            raise Conflict(f"proposal {row.id} is already {row.status}")
        self.roles.require(reviewer, "reviewer", "approve proposals")
        if reviewer == row.author:
            raise PermissionDenied(f"four eyes: {reviewer} wrote proposal {row.id}, so someone else must approve it")

    def _stale(self, row: ProposalRow, active: int | None) -> Conflict:
        return Conflict(f"the active version moved from {row.base_version or 'none'} to {active or 'none'} since "
                        f"proposal {row.id} was made; run `rulewright rebase {row.id}` and review it again")

    def _lost_race(self, row: ProposalRow) -> Conflict:
        with self._read() as s:
            now = self._proposal_row(s, row.id)  # type: ignore[arg-type]
            active = self._active_id(s)
        if now.status != "submitted":
            return Conflict(f"proposal {row.id} was {now.status} by someone else meanwhile")
        return self._stale(row, active)

    def _commit_approval(self, row: ProposalRow, reviewer: str, comment: str, merged: list[Rule],
                         findings: list[Finding], impact: dict[str, Any]) -> Version:
        digest, now = ruleset_hash(merged), utcnow()
        with self._write() as s:
            self._hook("approve:in-transaction")
            # Row lock on PostgreSQL: a concurrent approval waits here, then sees the moved pointer.
            active = s.exec(select(ActiveRow).where(ActiveRow.id == 1).with_for_update()).one()
            if active.version_id != row.base_version:
                raise Conflict("active version moved")
            if s.get(RuleSetRow, digest) is None:
                s.add(RuleSetRow(hash=digest, rule_count=len(merged), rules=_rules_text(merged)))
            # Numbered under the lock, not from a sequence: version numbers have no gaps even on
            # PostgreSQL, where a rolled-back approval would otherwise burn a sequence value.
            number = (s.exec(select(func.max(VersionRow.id))).one() or 0) + 1
            version = VersionRow(id=number, ruleset=digest, parent_id=row.base_version, proposal_id=row.id, author=row.author,
                                 approver=reviewer, note=row.note, created_at=now)
            s.add(version)
            s.flush()
            self._hook("approve:version-written")
            moved = s.exec(update(ActiveRow).where(ActiveRow.id == 1,  # type: ignore[arg-type]
                                                   ActiveRow.version_id.is_not_distinct_from(row.base_version))  # type: ignore[union-attr]
                           .values(version_id=version.id, updated_at=now))
            if moved.rowcount != 1:
                raise Conflict("active version moved")
            closed = s.exec(update(ProposalRow).where(ProposalRow.id == row.id, ProposalRow.status == "submitted")  # type: ignore[arg-type]
                            .values(status="approved", result_version=version.id, checked_against=row.base_version,
                                    findings=canonical_json([f.model_dump() for f in findings]),
                                    impact=canonical_json(impact), updated_at=now))
            if closed.rowcount != 1:
                raise Conflict("proposal closed meanwhile")
            s.add(ReviewRow(proposal_id=row.id, reviewer=reviewer, decision="approved", comment=comment, created_at=now))  # type: ignore[arg-type]
            self._hook("approve:before-audit")
            audit.append(s, reviewer, "approve", f"proposal:{row.id}",
                         {"version": version.id, "ruleset": digest, "parent": row.base_version, "author": row.author,
                          "rules": len(merged), "comment": comment})
        return self.get_version(version.id)  # type: ignore[arg-type]

    def rollback(self, ref: int | str, user: str, note: str | None = None) -> Proposal:
        """A proposal that restores an earlier version (it is reviewed and approved like any other)."""
        valid_user(user)
        target = self.get_version(ref)
        if target.active:
            raise StoreError(f"version {target.number} is already the active version")
        rules = self.version_rules(target.number)
        return self.propose(rules, user, note or f"roll back to version {target.number} ({target.ruleset[:19]}…)",
                            Provenance(source="rollback", request=f"rollback {ref}"), full=True)

    # --- export and audit ---------------------------------------------------------------

    def bundle(self) -> dict[str, Any]:
        """The active version as a deployable bundle (see ``rules_core.export.bundle``)."""
        from rules_core.export.bundle import make_bundle

        version = self.active_version()
        if version is None:
            raise NotFound("nothing to export: no rule set has been approved yet")
        parent = self.get_version(version.parent) if version.parent else None
        approvals = self.get_proposal(version.proposal).reviews if version.proposal else []
        return make_bundle(version=version, parent=parent, rules=self.version_rules(version.number),
                           approvals=[r for r in approvals if r.decision == "approved"],
                           store_schema=db.head_revision())

    def export_bundle(self, path: str | Path) -> dict[str, Any]:
        from rules_core.export.bundle import write_json_atomic

        bundle = self.bundle()
        write_json_atomic(Path(path), bundle)
        return bundle

    def verify_audit(self) -> audit.AuditReport:
        with self._read() as s:
            return audit.verify(s)

    def audit_log(self, limit: int | None = 50) -> list[audit.AuditEntry]:
        with self._read() as s:
            return audit.entries(s, limit)


def active_rules(settings: CoreSettings | None = None) -> list[Rule]:
    """The active approved rule set of the configured store (empty before the first approval)."""
    with Store.open(settings=settings) as store:
        return store.active_rules()
