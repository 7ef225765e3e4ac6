"""The store's tables (SQLModel). The migrations in ``migrations/versions`` create them.

    rule_sets      immutable rule-set contents, content-addressed by ``ruleset_hash``
    versions       the approved versions: a rule set, its parent version, author, approver, time
    active         one row: the version the runtime uses (moved by compare-and-swap only)
    proposals      proposed changes: rules added/changed (merged by id onto the base), ids removed
    reviews        each reviewer decision on a proposal
    audit_log      append-only, hash-chained record of everything that changed the store
    audit_head     one row: the last audit entry's sequence and hash (serialises appends)

JSON columns hold canonical JSON text (``models.canonical_json``) so that they hash and
compare the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

# Our own metadata, so that other SQLModel tables in the same process never mix with the store's.
store_registry = registry()


class StoreTable(SQLModel, registry=store_registry):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc)  # sqlmodel stores aware datetimes as UTC and returns them in UTC


def _text(**kw: object) -> Column:  # type: ignore[type-arg]
    return Column(Text, **kw)  # type: ignore[arg-type]


class RuleSetRow(StoreTable, table=True):
    __tablename__ = "rule_sets"
    hash: str = Field(primary_key=True, max_length=80)
    rule_count: int
    rules: str = Field(sa_column=_text(nullable=False))  # canonical JSON list, sorted by id


class VersionRow(StoreTable, table=True):
    __tablename__ = "versions"
    id: int | None = Field(default=None, primary_key=True)
    ruleset: str = Field(foreign_key="rule_sets.hash", max_length=80, index=True)
    parent_id: int | None = Field(default=None, foreign_key="versions.id")
    proposal_id: int | None = None  # no foreign key: proposals refer to versions, not both ways
    author: str = Field(max_length=200)
    approver: str = Field(max_length=200)
    note: str = Field(default="", sa_column=_text(nullable=False))
    created_at: datetime


class ActiveRow(StoreTable, table=True):
    __tablename__ = "active"
    id: int = Field(default=1, primary_key=True)
    version_id: int | None = Field(default=None, foreign_key="versions.id")
    updated_at: datetime | None = None


class ProposalRow(StoreTable, table=True):
    __tablename__ = "proposals"
    id: int | None = Field(default=None, primary_key=True)
    author: str = Field(max_length=200, index=True)
    note: str = Field(default="", sa_column=_text(nullable=False))
    status: str = Field(max_length=20, index=True)  # draft | submitted | approved | rejected
    base_version: int | None = Field(default=None, foreign_key="versions.id")
    changes: str = Field(sa_column=_text(nullable=False))  # canonical JSON list of rules
    removes: str = Field(sa_column=_text(nullable=False))  # canonical JSON list of rule ids
    request_text: str | None = Field(default=None, sa_column=_text(nullable=True))
    source: str = Field(default="manual", max_length=20)  # parser | model | manual | rollback
    model_name: str | None = Field(default=None, max_length=200)
    usage: str | None = Field(default=None, sa_column=_text(nullable=True))  # JSON token usage
    findings: str = Field(default="[]", sa_column=_text(nullable=False))  # JSON, last validation
    impact: str | None = Field(default=None, sa_column=_text(nullable=True))  # JSON, last dry-run summary
    checked_against: int | None = None  # the version validation and the dry run ran against
    result_version: int | None = Field(default=None, foreign_key="versions.id")
    created_at: datetime
    updated_at: datetime


class ReviewRow(StoreTable, table=True):
    __tablename__ = "reviews"
    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposals.id", index=True)
    reviewer: str = Field(max_length=200)
    decision: str = Field(max_length=20)  # approved | rejected
    comment: str = Field(default="", sa_column=_text(nullable=False))
    created_at: datetime


class AuditRow(StoreTable, table=True):
    __tablename__ = "audit_log"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: str = Field(max_length=40)  # ISO 8601 UTC text: hashed exactly as stored
    actor: str = Field(max_length=200)
    action: str = Field(max_length=40)
    subject: str = Field(max_length=200)
    details: str = Field(sa_column=_text(nullable=False))  # canonical JSON
    prev_hash: str = Field(max_length=80)
    hash: str = Field(max_length=80)


class AuditHeadRow(StoreTable, table=True):
    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=80)


TABLES = [RuleSetRow, VersionRow, ActiveRow, ProposalRow, ReviewRow, AuditRow, AuditHeadRow]
