from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.helpers.smtp import SmtpServer


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Tests configure the gateway explicitly; the developer's own GATEWAY_* must not leak in.
    for name in list(os.environ):
        if name.startswith("GATEWAY_") and name != "GATEWAY_REQUIRE_SERVICES":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
