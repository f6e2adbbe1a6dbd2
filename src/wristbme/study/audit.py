"""Append-only audit trail with a hash chain.

Each event's hash is ``SHA-256(prev_hash || "\\n" || canonical(id, at, event, actor, detail))``; the first
event's ``prev_hash`` is 64 zeros. ``audit_head`` holds the newest hash and is locked by every writer, so
two writers can never fork the chain. Database triggers refuse UPDATE and DELETE on ``audit_events``;
``verify_chain`` detects any row changed, removed, inserted or reordered by someone who got past them.

Details never carry identifiers: subjects appear as ``subject_key`` (keyed hash), images by store id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wristbme.study.models import AuditEvent, AuditHead, utcnow

GENESIS = "0" * 64


def canonical_detail(detail: dict[str, Any] | None) -> str:
    """Sorted-key compact JSON (ASCII), the form that is stored and hashed."""
    return json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)


def event_hash(prev_hash: str, *, id: int, at: dt.datetime, event: str, actor: str | None, detail: str) -> str:
    body = json.dumps([id, at.replace(microsecond=0).isoformat(), event, actor or "", detail],
                      separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def audit(session: Session, event: str, detail: dict[str, Any] | None = None, *, actor: str | None = None
          ) -> AuditEvent:
    """Append an audit event in the caller's transaction (it commits or rolls back with the change).

    Parameters
    ----------
    session : Session
        Inside an open transaction.
    event : str
        Dotted name, e.g. ``intake.done``, ``withdraw``, ``correction``.
    detail : dict
        JSON-able, with no identifiers (pseudonyms as ``subject_key``).
    actor : str, optional
        User or operator name.
    """
    # Lock the head first: an UPDATE takes SQLite's write lock and PostgreSQL's row lock.
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    head = session.execute(select(AuditHead.seq, AuditHead.last_hash).where(AuditHead.id == 1)).one()
    prev = head.last_hash
    last_id = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    body = canonical_detail(detail)
    at = utcnow()
    row = AuditEvent(id=last_id + 1, at=at, event=event, actor=actor, detail=body, prev_hash=prev)
    row.hash = event_hash(prev, id=row.id, at=at, event=event, actor=actor, detail=body)
    session.add(row)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(last_hash=row.hash))
    session.flush()
    return row


@dataclass
class ChainReport:
    """Result of ``verify_chain``: ``ok`` and, when not, the first bad event id and what is wrong."""

    ok: bool
    n_events: int
    head_hash: str
    problems: list[str] = field(default_factory=list)
    first_bad_id: int | None = None


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash in order and check the links and the head."""
    prev = GENESIS
    expected_id = 1
    problems: list[str] = []
    first_bad: int | None = None
    n = 0
    for row in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        n += 1
        issue = None
        if row.id != expected_id:
            issue = f"event {row.id}: expected id {expected_id} (an event was removed or inserted)"
        elif row.prev_hash != prev:
            issue = f"event {row.id}: prev_hash does not match the previous event's hash"
        else:
            want = event_hash(prev, id=row.id, at=row.at, event=row.event, actor=row.actor, detail=row.detail)
            if want != row.hash:
                issue = f"event {row.id}: content does not match its hash (changed after writing)"
        if issue:
            problems.append(issue)
            first_bad = first_bad if first_bad is not None else row.id
        prev = row.hash
        expected_id = row.id + 1
    head = session.scalar(select(AuditHead.last_hash).where(AuditHead.id == 1))
    if head is None:
        problems.append("audit_head row is missing")
    elif head != prev:
        problems.append("audit_head does not match the last event (events were removed from the end)")
        first_bad = first_bad if first_bad is not None else expected_id
    return ChainReport(ok=not problems, n_events=n, head_hash=prev, problems=problems, first_bad_id=first_bad)
