#!/usr/bin/env python3
"""Bootstrap and run: `python3 ops/quickstart.py demo` or `python3 ops/quickstart.py test`.

Needs only Python 3.11+. Creates ./.venv beside the project (once, and again
when pyproject.toml changes), installs the gateway with its test extras, then
runs the demo or the whole test suite. Extra arguments go to `gateway demo` or
to pytest.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed-from"

USAGE = """usage: python3 ops/quickstart.py demo [gateway demo options]
       python3 ops/quickstart.py test [--require-services] [pytest options]

demo   push a realistic week through the embedded gateway (SQLite, in-process
       workers, mail as .eml files) and show where the clue packets went
test   run the whole test suite; --require-services makes the PostgreSQL,
       Redis and RabbitMQ tests fail instead of skip when a service is down
"""


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is needed (this is {sys.version.split()[0]}); run with python3.11 or newer")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print(f"creating virtual environment in {VENV} …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing the gateway and its test tools (first run only) …", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(USAGE, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    env = dict(os.environ)
    if command == "demo":
        return subprocess.call([str(PYTHON), "-m", "gateway.cli", "demo", *rest], env=env)
    if "--require-services" in rest:
        rest.remove("--require-services")
        env["GATEWAY_REQUIRE_SERVICES"] = "1"
    return subprocess.call([str(PYTHON), "-m", "pytest", *rest], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
