"""转交: the office or a committee forwards a clue to one of the committee's workstations, with a note (docs/office.md).

A forwarded clue is what a workstation user sees (`inbox._scope`); the clue's
state becomes 已转交 until a Table 1 names it. Every forward is a row of
`clue_forwards` and of the audit log, in one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.db.models import Clue, ClueForward
from gateway.errors import Forbidden, ValidationFailed
from gateway.office.accounts import Viewer, audit
from gateway.office.inbox import NOTE_MAX, committee_short, visible_clue
from gateway.pipeline.privacy import mask_text
from gateway.pipeline.routing_rules import RoutingConfig
from gateway.periods import SHANGHAI


@dataclass(frozen=True)
class ForwardLine:
    at: str
    by: str
    workstation: str
    committee: str
    note: str


@dataclass(frozen=True)
class Forwarding:
    lines: list[ForwardLine]
    targets: list[tuple[str, list[str]]]  # (committee short, its workstations not yet forwarded to), for the form
    can_forward: bool


def _stations(routing: RoutingConfig, committee_id: str) -> list[str]:
    try:
        committee = routing.committee(committee_id)
    except KeyError:
        return []
    return [s if isinstance(s, str) else s.name for s in committee.workstations]


def targets(viewer: Viewer, routing: RoutingConfig, clue: Clue) -> list[tuple[str, str, list[str]]]:
    """Where this user may forward the clue: (committee id, short, workstations).

    A committee forwards to the workstations it liaises with (routing: `workstations:`); the office to any
    workstation, the clue's own committee's first (a triage clue has no committee with workstations).
    """
    if viewer.role == "committee":
        cid = viewer.committee_id or ""
        return [(cid, committee_short(routing, cid), _stations(routing, cid))]
    if viewer.role != "office":
        return []
    order = [clue.committee_id] + [c.id for c in routing.committees if c.id != clue.committee_id]
    return [(cid, committee_short(routing, cid), stations) for cid in order if (stations := _stations(routing, cid))]


def forwarding(session: Session, viewer: Viewer, routing: RoutingConfig, clue_id: str) -> Forwarding:
    """The clue's forwards (a workstation sees only its own) and, for the form, where it may still go."""
    clue = visible_clue(session, viewer, clue_id)
    rows = session.scalars(select(ClueForward).where(ClueForward.clue_pk == clue.id).order_by(ClueForward.id)).all()
    done = {f.workstation for f in rows}
    lines = [ForwardLine(f.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"), f.username, f.workstation, committee_short(routing, f.committee_id),
                         f.note) for f in rows if viewer.role != "workstation" or f.workstation == viewer.workstation]
    left = [(short, [s for s in stations if s not in done]) for _, short, stations in targets(viewer, routing, clue)]
    left = [(short, stations) for short, stations in left if stations]
    return Forwarding(lines=lines, targets=left, can_forward=bool(left))


def forward_clue(session: Session, viewer: Viewer, routing: RoutingConfig, clue_id: str, workstation: str, note: str) -> ClueForward:
    """Forward a clue to a workstation (转交), with a note; audited. Commits."""
    clue = visible_clue(session, viewer, clue_id)
    if viewer.role == "workstation":
        raise Forbidden("委员工作站不能转交线索。如需其他工作站协同，请联系对口委室。")
    allowed = {s: cid for cid, _, stations in targets(viewer, routing, clue) for s in stations}
    workstation = workstation.strip()
    if not workstation:
        raise ValidationFailed("请选择转交的委员工作站（活动组）。")
    if workstation not in allowed:
        raise ValidationFailed(f"“{workstation}”不是本委室联系的委员工作站（活动组），不能转交。")
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(f"转交说明不能超过{NOTE_MAX}字。")
    if session.scalar(select(ClueForward.id).where(ClueForward.clue_pk == clue.id, ClueForward.workstation == workstation)) is not None:
        raise ValidationFailed(f"这条线索已转交{workstation}，无需重复转交。")
    note = mask_text(note)  # staff type phone numbers
    row = ClueForward(clue_pk=clue.id, workstation=workstation, committee_id=allowed[workstation], note=note, username=viewer.username)
    session.add(row)
    audit(session, "forward", username=viewer.username, target=clue.clue_id, workstation=workstation, note=note)
    session.commit()
    return row
