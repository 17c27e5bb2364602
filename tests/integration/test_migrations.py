"""Alembic's migrations build exactly the schema the models describe."""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gateway.db import migrate
from gateway.db.engine import make_engine
from gateway.db.models import Base
from tests.helpers.services import postgres_database


def _diff(url: str) -> list[object]:
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata))
    finally:
        engine.dispose()


def test_sqlite_schema_matches_the_models(tmp_path: Path) -> None:
    assert _diff(f"sqlite:///{tmp_path / 'g.db'}") == []


@pytest.mark.services
def test_postgresql_schema_matches_the_models() -> None:
    with postgres_database() as url:
        assert _diff(url) == []
        migrate.upgrade(url)  # a second upgrade is a no-op
        assert migrate.current(url) == migrate.head()
