"""`gateway` commands as real child processes."""
from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ops.gwenv import gateway_env

__all__ = ["gateway_env", "gateway_process"]


@contextmanager
def gateway_process(*args: str, cwd: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    log = open(cwd / f"gateway-{args[0]}.log", "w+", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", *args], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.seek(0)
        output = log.read()
        log.close()
        if process.returncode not in (0, -signal.SIGTERM):
            print(output)  # shown by pytest when the test fails
