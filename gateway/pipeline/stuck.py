"""Reports that cannot go on (poison messages): counted, set aside with their reason after a bounded number of attempts.

A step that fails for want of the database, the broker or another service is retried by the queue as long as it
takes (`is_transient`). A step that fails for any other reason (a record that breaks the normalizer, a bug) is
counted on its report; at the limit the report is set aside: state `stuck`, with the reason and the time, shown by
`gateway reports list --stuck`, counted in `gateway_reports_stuck`, and it no longer holds the reports after it.
`gateway reports retry REPORT_ID` puts it back once the cause is fixed.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from gateway.db.models import Report, utcnow
from gateway.errors import TransientError
from gateway.uow import UnitOfWork

STUCK = "stuck"


def is_transient(exc: BaseException) -> bool:
    """Worth retrying as long as it takes: the database, the broker or a service is away, not the report at fault."""
    if isinstance(exc, (TransientError, OperationalError, ConnectionError, TimeoutError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def record_failure(uow: UnitOfWork, report_pk: int, reason: str, *, attempts: int) -> Report | None:
    """One more failure of the report's step; the report, set aside, when this was the last attempt (else None)."""
    with uow:
        report = uow.session.get(Report, report_pk, with_for_update={"key_share": True})
        if report is None or report.state == STUCK:
            uow.commit()
            return None
        report.failures = (report.failures or 0) + 1
        report.last_error = reason[:2000]
        if report.failures < attempts:
            uow.commit()
            return None
        report.state_before_stuck = report.state
        report.state = STUCK
        report.stuck_at = utcnow()
        uow.commit()
        return report


def stuck_reports(session: Session) -> list[Report]:
    return list(session.scalars(select(Report).where(Report.state == STUCK).order_by(Report.stuck_at)))
