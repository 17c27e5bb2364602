"""Accounts of the office's pages: who may sign in, as what, and the throttle on guessing passwords.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's
second recommended set); a hash made with older parameters is replaced at the
next good login. Failed logins are rows of the audit log, so every API process
of a deployment counts the same failures and the office can read them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.db.models import AuditEntry, User, utcnow
from gateway.errors import ConfigError, NotFound
from gateway.pipeline.routing_rules import RoutingConfig

ROLES = {"office": "区政协办公室", "committee": "委室", "workstation": "委员工作站（活动组）"}
USERNAME = re.compile(r"[\w.@-]{2,64}")
MIN_PASSWORD = 8
FAILURES_ALLOWED = 5
FAILURE_WINDOW = timedelta(minutes=15)

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Checked against when the username is unknown, so that a wrong name costs as long as a wrong password."""
    return _hasher.hash("no such user: this hash only takes time")


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as the pages need them: what they may see and do."""

    user_pk: int
    username: str
    display_name: str
    role: str
    committee_id: str | None
    workstation: str | None

    @property
    def label(self) -> str:
        return self.display_name or self.username


def viewer_of(user: User) -> Viewer:
    return Viewer(user.id, user.username, user.display_name, user.role, user.committee_id, user.workstation)


def audit(session: Session, action: str, *, username: str | None, target: str | None = None, address: str | None = None,
          at: datetime | None = None, **detail: object) -> None:
    """One row of the audit log, in the caller's transaction: it is written if and only if the change is."""
    session.add(AuditEntry(at=at or utcnow(), username=username, action=action, target=target, address=address, detail=detail))


def add_user(session: Session, routing: RoutingConfig, *, username: str, password: str, role: str, committee_id: str | None = None,
             workstation: str | None = None, display_name: str = "", by: str) -> User:
    """Create a user (ConfigError naming what is wrong). The caller commits."""
    if not USERNAME.fullmatch(username):
        raise ConfigError(f"username {username!r}: 2 to 64 letters, digits, '.', '_', '-' or '@'")
    if role not in ROLES:
        raise ConfigError(f"role {role!r}: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password must have at least {MIN_PASSWORD} characters")
    if role == "committee":
        known = [c.id for c in routing.committees]
        if committee_id not in known:
            raise ConfigError(f"a committee user needs --committee, one of the routing's committees: {', '.join(known)}")
        workstation = None
    elif role == "workstation":
        stations = sorted({s if isinstance(s, str) else s.name for c in routing.committees for s in c.workstations})
        if workstation not in stations:
            raise ConfigError(f"a workstation user needs --workstation, one of the routing's workstations: {', '.join(stations)}")
        committee_id = routing.committee_of_workstation(workstation)
    else:
        committee_id = workstation = None
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ConfigError(f"there is already a user {username!r} (disable it, or choose another name)")
    user = User(username=username, display_name=display_name.strip(), role=role, committee_id=committee_id, workstation=workstation,
                password_hash=_hasher.hash(password), active=True, session_epoch=0)
    session.add(user)
    audit(session, "user_add", username=by, target=username, role=role, committee_id=committee_id, workstation=workstation)
    return user


def disable_user(session: Session, username: str, *, by: str) -> User:
    """Disable a user: no more logins, and the sessions it has stop working at their next request. The caller commits."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    if user.active:
        user.active = False
        user.disabled_at = utcnow()
        user.session_epoch += 1
        audit(session, "user_disable", username=by, target=username)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.username)))


@dataclass(frozen=True)
class LoginResult:
    """`user` on success; otherwise `throttled` (429) or a wrong name or password."""

    user: User | None
    throttled: bool = False


def recent_failures(session: Session, *, username: str, address: str | None, now: datetime) -> tuple[int, int]:
    """Failed logins within the window: of this username since its last good login, and from this address."""
    since = now - FAILURE_WINDOW
    last_good = session.scalar(select(func.max(AuditEntry.at)).where(AuditEntry.action == "login", AuditEntry.username == username,
                                                                      AuditEntry.at > since))
    by_name = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "login_failed", AuditEntry.username == username, AuditEntry.at > (last_good or since))) or 0
    by_address = 0
    if address:
        by_address = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "login_failed", AuditEntry.address == address, AuditEntry.at > since)) or 0
    return by_name, by_address


def log_in(session: Session, username: str, password: str, *, address: str | None, now: datetime | None = None) -> LoginResult:
    """Check a login, throttled per username and per address; every attempt is written to the audit log. Commits."""
    now = now or utcnow()
    username = username.strip()[:64]
    by_name, by_address = recent_failures(session, username=username, address=address, now=now)
    if by_name >= FAILURES_ALLOWED or by_address >= FAILURES_ALLOWED:
        # Refused before the password is looked at, right or wrong: that is what stops the guessing.
        audit(session, "login_throttled", username=username, address=address, at=now)
        session.commit()
        return LoginResult(None, throttled=True)
    user = session.scalar(select(User).where(User.username == username))
    good = _verify(user.password_hash if user is not None else _dummy_hash(), password) and user is not None and user.active
    if not good or user is None:
        audit(session, "login_failed", username=username, address=address, at=now,
              reason="disabled" if user is not None and not user.active and _verify(user.password_hash, password) else "password")
        session.commit()
        return LoginResult(None)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    audit(session, "login", username=username, address=address, at=now)
    session.commit()
    return LoginResult(user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def log_out(session: Session, user_pk: int, *, address: str | None) -> None:
    """End every session of the user (the cookie cannot be recalled, so the epoch it carries is). Commits."""
    user = session.get(User, user_pk)
    if user is not None:
        user.session_epoch += 1
        audit(session, "logout", username=user.username, address=address)
        session.commit()


def active_user(session: Session, user_pk: int, epoch: int) -> User | None:
    """The session's user if it is still active and the session was not ended since."""
    user = session.get(User, user_pk)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    return user
