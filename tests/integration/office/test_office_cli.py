"""`gateway users`: the password from standard input (never an argument), the binding checked against the routing, disable, list."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, select

from gateway.db.models import AuditEntry, User
from tests.helpers.processes import gateway_env


def users(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", "users", *args], cwd=cwd, env=gateway_env(), input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_users_add_disable_list(tmp_path: Path) -> None:
    added = users("add", "chengjian", "--role", "committee", "--committee", "urban", "--name", "城建环保委 李主任", "--password-stdin",
                  cwd=tmp_path, stdin="a-long-password\n")
    assert added.returncode == 0, added.stderr
    assert "/office/" in added.stdout
    unknown = users("add", "x1", "--role", "committee", "--committee", "nosuch", "--password-stdin", cwd=tmp_path, stdin="a-long-password\n")
    assert unknown.returncode == 2 and "urban, economy" in unknown.stderr
    short = users("add", "x2", "--role", "office", "--password-stdin", cwd=tmp_path, stdin="short\n")
    assert short.returncode == 2 and "at least 8" in short.stderr
    no_tty = users("add", "x3", "--role", "office", cwd=tmp_path)  # no terminal and no --password-stdin: refused, not a blank password
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr
    assert "--password " not in users("add", "--help", cwd=tmp_path).stdout
    assert users("disable", "chengjian", cwd=tmp_path).returncode == 0
    listed = users("list", cwd=tmp_path)
    assert "chengjian" in listed.stdout and "disabled" in listed.stdout and "x2" not in listed.stdout

    engine = create_engine(f"sqlite:///{tmp_path / 'gateway-data' / 'gateway.db'}")
    with engine.connect() as conn:
        user = conn.execute(select(User.password_hash, User.active)).one()
        actions = [row.action for row in conn.execute(select(AuditEntry.action, AuditEntry.username))]
        who = {row.username for row in conn.execute(select(AuditEntry.username))}
    engine.dispose()
    assert user.password_hash.startswith("$argon2id$") and "a-long-password" not in user.password_hash and not user.active
    assert actions == ["user_add", "user_disable"] and all(name.startswith("cli") for name in who)
