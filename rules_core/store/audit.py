"""The audit log: an append-only list of entries, each carrying the hash of the one before.

``hash = sha256(canonical JSON of {seq, at, actor, action, subject, details, prev_hash})``.
Editing, deleting or reordering an entry breaks the chain at that entry; dropping entries
from the end is caught by ``audit_head``, which every append updates in the same
transaction. The database also refuses UPDATE and DELETE on the log (triggers), so
tampering needs deliberate DDL. A chain without an outside anchor cannot catch a complete
rewrite by someone who can also rewrite the head: copy ``audit verify --json``'s head hash
somewhere else (a ticket, a release note) to anchor it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Sequence

from pydantic import BaseModel
from sqlmodel import Session, select

from rules_core.models import canonical_json
from rules_core.store.schema import AuditHeadRow, AuditRow

GENESIS = "sha256:" + "0" * 64


def entry_hash(seq: int, at: str, actor: str, action: str, subject: str, details: str, prev_hash: str) -> str:
    body = canonical_json({"seq": seq, "at": at, "actor": actor, "action": action,
                           "subject": subject, "details": details, "prev_hash": prev_hash})
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


def append(session: Session, actor: str, action: str, subject: str, details: dict[str, Any]) -> AuditRow:
    """Add an entry in the caller's transaction; the head row lock serialises concurrent appends."""
    head = session.exec(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).one()
    at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    body = canonical_json(details)
    seq = head.seq + 1
    row = AuditRow(seq=seq, at=at, actor=actor, action=action, subject=subject, details=body,
                   prev_hash=head.hash, hash=entry_hash(seq, at, actor, action, subject, body, head.hash))
    session.add(row)
    head.seq, head.hash = seq, row.hash
    session.add(head)
    session.flush()
    return row


class AuditEntry(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    hash: str


class AuditReport(BaseModel):
    ok: bool
    entries: int
    head: str
    problems: list[str]

    def summary(self) -> str:
        if self.ok:
            return f"audit log intact: {self.entries} entries, head {self.head}"
        return f"audit log BROKEN: {self.problems[0]}" + (f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else "")


def verify(session: Session) -> AuditReport:
    rows = session.exec(select(AuditRow).order_by(AuditRow.seq)).all()  # type: ignore[arg-type]
    head = session.exec(select(AuditHeadRow).where(AuditHeadRow.id == 1)).one()
    problems = list(_chain_problems(rows))
    last_seq, last_hash = (rows[-1].seq, rows[-1].hash) if rows else (0, GENESIS)
    if (head.seq, head.hash) != (last_seq, last_hash):
        problems.append(f"the log ends at entry {last_seq} but the head records entry {head.seq}: entries were removed or added")
    return AuditReport(ok=not problems, entries=len(rows), head=head.hash, problems=problems)


def _chain_problems(rows: Sequence[AuditRow]) -> list[str]:
    problems: list[str] = []
    prev_seq, prev_hash = 0, GENESIS
    for row in rows:
        if row.seq != prev_seq + 1:
            problems.append(f"entries {prev_seq + 1}..{row.seq - 1} are missing")
        if row.prev_hash != prev_hash:
            problems.append(f"entry {row.seq} does not follow the entry before it (chain broken)")
        if entry_hash(row.seq, row.at, row.actor, row.action, row.subject, row.details, row.prev_hash) != row.hash:
            problems.append(f"entry {row.seq} ({row.action} {row.subject}) was altered: its hash does not match its content")
        prev_seq, prev_hash = row.seq, row.hash
    return problems


def entries(session: Session, limit: int | None = None) -> list[AuditEntry]:
    query = select(AuditRow).order_by(AuditRow.seq.desc())  # type: ignore[attr-defined]
    if limit:
        query = query.limit(limit)
    return [AuditEntry(seq=r.seq, at=r.at, actor=r.actor, action=r.action, subject=r.subject,
                       details=json.loads(r.details), hash=r.hash) for r in session.exec(query)]
