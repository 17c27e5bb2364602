from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.helpers.smtp import SmtpServer


def pytest_configure(config: pytest.Config) -> None:
    # Before any test module is imported: see everything the suite makes the gateway produce.
    from tests.helpers import scanner

    scanner.install()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any email, attachment, feedback document, log line or metric carried personal data."""
    from tests.helpers import scanner

    factory = getattr(session.config, "_tmp_path_factory", None)
    root = factory.getbasetemp() if factory is not None else None
    counts, problems = scanner.scan(root)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    summary = "personal-data scan: " + ", ".join(f"{n} {what}" for what, n in counts.items()) + f"; {len(problems)} finding(s)"
    if reporter is not None:
        reporter.write_line(summary)
        for problem in problems[:50]:
            reporter.write_line("  " + problem, red=True)
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
