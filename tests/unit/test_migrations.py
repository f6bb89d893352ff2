"""The Alembic migrations build exactly the schema the models describe, on both databases."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db


@pytest.fixture
def empty_database_url(tmp_path):
    """A URL to a brand-new empty database of the kind under test."""
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_from_empty_matches_the_models(empty_database_url, tmp_path):
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []


def test_existing_deadlines_move_to_the_end_of_the_day_they_showed(empty_database_url):
    """Offerings created before deadlines were days close at the end of their Moroccan day."""
    from datetime import datetime

    from flask_migrate import upgrade

    from portal.timeutil import end_of_local_day, local_day

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    # Midnight UTC (the old seed), an afternoon, and a moment already at the end of its day.
    moments = [datetime(2026, 12, 14, 0, 0), datetime(2025, 11, 15, 17, 30)]
    with app.app_context():
        moments.append(end_of_local_day(local_day(datetime(2026, 1, 10, 12, 0))))
        upgrade(revision="c3a91f5d2e10")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO region (id, code, name_fr, name_ar, name_en) VALUES (1, 'R', 'R', 'R', 'R')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO city (id, slug, region_id, name_fr, name_ar, name_en) VALUES (1, 'c', 1, 'C', 'C', 'C')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO track (id, code, domain, min_education, title_fr, title_ar, title_en, "
                    "description_fr, description_ar, description_en) "
                    "VALUES (1, 'T', 'digital', 'secondary', 'T', 'T', 'T', '', '', '')"
                )
            )
            for number, moment in enumerate(moments, start=1):
                connection.execute(
                    text(
                        "INSERT INTO offering (id, track_id, city_id, academic_year, seats, seats_held, "
                        "opens_at, closes_at, status, created_at) "
                        "VALUES (:id, 1, 1, :year, 25, 0, :opens, :closes, 'open', :opens)"
                    ),
                    {
                        "id": number,
                        "year": f"20{number:02d}-20{number + 1:02d}",
                        "opens": datetime(2025, 1, 1),
                        "closes": moment,
                    },
                )
        upgrade()
        with db.engine.connect() as connection:
            stored = dict(connection.execute(text("SELECT id, closes_at FROM offering")).all())
        stored = {k: v if isinstance(v, datetime) else datetime.fromisoformat(v) for k, v in stored.items()}
        expected = {n: end_of_local_day(local_day(m)) for n, m in enumerate(moments, start=1)}
        db.engine.dispose()
    assert stored == expected
    # The day shown stays the same, and no window shrinks.
    assert all(stored[n] >= m for n, m in enumerate(moments, start=1))
