"""The Alembic migrations build exactly the schema the models describe, on both databases."""

import os
import re
import uuid
from contextlib import contextmanager
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from portal import ROOT, create_app
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


ENCRYPTION_REVISION = "75621f27484a"


def _revision_before(revision):
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_revision(revision).down_revision


def test_totp_secrets_are_encrypted_by_the_upgrade_and_decrypted_by_the_downgrade(empty_database_url):
    from flask_migrate import downgrade, upgrade

    keys = [Fernet.generate_key().decode(), Fernet.generate_key().decode()]
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    now = datetime(2026, 12, 1, 10, 0)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "SECRET_KEY": "x",
            "TESTING": True,
            "TOTP_ENCRYPTION_KEYS": keys,
        }
    )
    before = _revision_before(ENCRYPTION_REVISION)
    users = 'SELECT id, {column} FROM "user" ORDER BY id'
    with app.app_context():
        upgrade(revision=before)
        with db.engine.begin() as connection:
            for user_id, totp_secret in ((1, secret), (2, None)):
                connection.execute(
                    text(
                        'INSERT INTO "user" (id, email, role, locale, active, auth_version, created_at,'
                        " totp_secret, totp_enabled_at)"
                        " VALUES (:id, :email, 'reviewer', 'fr', :active, 1, :now, :secret, :enabled)"
                    ),
                    {
                        "id": user_id,
                        "email": f"staff{user_id}@ofppt.ma",
                        "active": True,
                        "now": now,
                        "secret": totp_secret,
                        "enabled": now if totp_secret else None,
                    },
                )
            connection.execute(
                text(
                    "INSERT INTO user_session (user_id, token_hash, created_at, last_seen_at)"
                    " VALUES (1, :hash, :now, :now)"
                ),
                {"hash": "0" * 64, "now": now},
            )

        upgrade()
        with db.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("user")}
            rows = connection.execute(text(users.format(column="totp_secret_encrypted"))).all()
            sessions = connection.execute(text("SELECT count(*) FROM user_session")).scalar()
        assert "totp_secret" not in columns
        assert rows[1] == (2, None)
        token = rows[0][1]
        assert secret not in token
        assert Fernet(keys[0]).decrypt(token.encode()).decode() == secret  # the first key encrypts
        assert sessions == 1  # nothing that refers to the users was lost on the way

        downgrade(revision=before)
        with db.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("user")}
            rows = connection.execute(text(users.format(column="totp_secret"))).all()
        assert "totp_secret_encrypted" not in columns
        assert rows == [(1, secret), (2, None)]
        db.engine.dispose()


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
        upgrade(revision=_revision_before("e5b2c7d41a93"))
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


VOCABULARY_REVISION = "f1c8a2d9b7e4"


def _vocabulary_columns():
    """{(table, column): vocabulary} from every vocabulary CHECK constraint of the models."""
    import portal.models  # noqa: F401 - every table in the metadata

    found = {}
    for table in db.metadata.sorted_tables:
        for constraint in table.constraints:
            if "vocabulary" in constraint.info:
                found[(table.name, constraint.info["column"])] = (
                    constraint.name,
                    constraint.info["vocabulary"],
                )
    return found


def test_every_vocabulary_column_is_checked_by_the_models():
    from portal.vocabulary import (
        ApplicationStatus,
        AssociationField,
        AssociationState,
        CertificateLanguage,
        CompletionReason,
        DocumentKind,
        Domain,
        EducationLevel,
        Endorsement,
        OfferingStatus,
        OutboxStatus,
        Recommendation,
        Role,
    )

    expected = {
        ("user", "role"): Role,
        ("applicant_profile", "education_level"): EducationLevel,
        ("applicant_profile", "association_field"): AssociationField,
        ("track", "domain"): Domain,
        ("track", "min_education"): EducationLevel,
        ("offering", "status"): OfferingStatus,
        ("application", "status"): ApplicationStatus,
        ("application", "completion_reason"): CompletionReason,
        ("application_count", "status"): ApplicationStatus,
        ("status_change", "from_status"): ApplicationStatus,
        ("status_change", "to_status"): ApplicationStatus,
        ("review", "recommendation"): Recommendation,
        ("outbox_email", "status"): OutboxStatus,
        ("document", "kind"): DocumentKind,
        ("association", "field"): AssociationField,
        ("association", "state"): AssociationState,
        ("membership", "state"): Endorsement,
        ("certificate", "language"): CertificateLanguage,
    }
    assert {key: vocabulary for key, (_name, vocabulary) in _vocabulary_columns().items()} == expected


def _seed_every_vocabulary_table():
    """One row in every table that has a vocabulary column (and in those referring to them)."""
    from portal.applications.models import Document
    from portal.auth.models import UserSession
    from portal.notifications.models import OutboxEmail
    from portal.review.models import Review
    from tests import factories

    offering = factories.offering()
    applicant = factories.user()
    reviewer = factories.reviewer(offering)
    application = factories.application(applicant, offering, status="accepted")
    db.session.add(UserSession(user_id=applicant.id, token_hash="1" * 64))
    db.session.add(
        Document(
            application_id=application.id,
            kind="membership",
            original_name="a.pdf",
            stored_name="0" * 32 + ".pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
        )
    )
    db.session.add(
        Review(
            application_id=application.id,
            reviewer_id=reviewer.id,
            score_motivation=3,
            score_engagement=3,
            score_fit=3,
            recommendation="accept",
        )
    )
    db.session.add(
        OutboxEmail(
            to_address=applicant.email, template="t", locale="fr", subject="s", body_text="b", body_html="b"
        )
    )
    db.session.commit()


@contextmanager
def _newer_columns_for_seeding():
    """Columns the models have and the database (an older revision) lacks, present meanwhile.

    The seed goes through the models, which read and write every column they map; the
    columns added by later revisions exist while it runs (nullable, no constraint) and are
    dropped before the upgrade under test adds them for real; so does the table of counts
    the workflow writes.
    """
    added = []
    created = []
    with db.engine.begin() as connection:
        inspector = inspect(connection)
        present = set(inspector.get_table_names())
        for table in db.metadata.sorted_tables:
            if table.name not in present:
                # The counts the workflow keeps (written by every transition), likewise.
                if table.name in (
                    "application_count",
                    "application_day_count",
                    "interest_count",
                    "resident_count",
                ):
                    table.create(connection)
                    created.append(table)
                continue
            existing = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in existing:
                    kind = column.type.compile(dialect=connection.dialect)
                    connection.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
                    added.append((table.name, column.name))
    try:
        yield
    finally:
        db.session.remove()
        with db.engine.begin() as connection:
            for table_name, column_name in added:
                connection.execute(text(f'ALTER TABLE "{table_name}" DROP COLUMN "{column_name}"'))
            for table in created:
                table.drop(connection)


def _row_counts(connection):
    """Rows per table, for the tables the database has at its revision (newer ones are absent)."""
    present = set(inspect(connection).get_table_names())
    return {
        table.name: connection.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar()
        for table in db.metadata.sorted_tables
        if table.name in present
    }


def test_the_migration_checks_every_vocabulary_column_and_keeps_the_rows(empty_database_url):
    """The migrated database has each vocabulary's CHECK with the vocabulary's values, exactly
    (a value added without a migration fails here), refuses any other value, and the upgrade
    (a table rebuild on SQLite) lost no row of the tables it rebuilt nor of those referring to them."""
    from flask_migrate import upgrade
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    columns = _vocabulary_columns()
    with app.app_context():
        upgrade(revision=_revision_before(VOCABULARY_REVISION))
        with _newer_columns_for_seeding():
            _seed_every_vocabulary_table()
        with db.engine.connect() as connection:
            before = _row_counts(connection)
        upgrade()
        with db.engine.begin() as connection:
            # A table created empty since the seed's revision gets its row now (the CHECK is
            # tried on it below): the certificate of the seeded application.
            application_id = connection.execute(text("SELECT min(id) FROM application")).scalar()
            connection.execute(
                db.metadata.tables["certificate"]
                .insert()
                .values(
                    application_id=application_id,
                    number="OFPPT-2026-0000-0000",
                    language="fr",
                    issued_at=datetime(2026, 12, 7),
                )
            )
        with db.engine.connect() as connection:
            after = _row_counts(connection)
            # Tables created since (the register of associations) are filled from the rows kept.
            assert {table: after[table] for table in before} == before
            assert all(after[table] for table, _column in columns)
            inspector = inspect(connection)
            for (table, column), (name, vocabulary) in columns.items():
                checks = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table)}
                sqltext = checks.get(name)  # the naming convention made it ck_<table>_<name>
                assert sqltext is not None, (table, column)
                assert column in sqltext
                assert set(re.findall(r"'([^']*)'", sqltext)) == set(vocabulary.values()), (table, column)
        for (table, column), _ in columns.items():
            with pytest.raises(IntegrityError), db.engine.begin() as connection:
                connection.execute(update(db.metadata.tables[table]).values({column: "bogus"}))
        db.engine.dispose()


REGISTER_REVISION = "b9e4f2a6c318"


def test_free_text_associations_become_register_entries_merged_by_number(empty_database_url):
    """Issue 14: one entry per normalised registration number, named after its earliest
    member; a profile with no number has an entry of its own; an anonymised one has none."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    # (name, number, city, field, account created on day): profiles 1-3 are one association.
    profiles = [
        ("Association Al Amal", "RSK-2015-0421", 1, "social", 2),
        ("Al Amal Rabat", "rsk 2015 0421", 2, "health", 3),
        ("Amal", "RSK/2015/0421", None, "youth", 1),
        ("Association Nour", "RSK-2016-0001", 2, "education", 4),
        ("Association sans numéro", " - ", 1, "culture", 5),
        ("Association sans numéro", "", 1, "culture", 6),
        ("—", "—", None, "other", 7),
    ]
    with app.app_context():
        upgrade(revision=_revision_before(REGISTER_REVISION))
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO region (id, code, name_fr, name_ar, name_en) VALUES (1, 'R', 'R', 'R', 'R')"
                )
            )
            for city_id in (1, 2):
                connection.execute(
                    text(
                        "INSERT INTO city (id, slug, region_id, name_fr, name_ar, name_en)"
                        " VALUES (:id, :slug, 1, 'C', 'C', 'C')"
                    ),
                    {"id": city_id, "slug": f"c{city_id}"},
                )
            for number, (name, registration, city_id, field, day) in enumerate(profiles, start=1):
                connection.execute(
                    text(
                        'INSERT INTO "user" (id, email, role, locale, active, auth_version, created_at)'
                        " VALUES (:id, :email, 'applicant', 'fr', :active, 1, :created)"
                    ),
                    {
                        "id": number,
                        "email": f"m{number}@example.ma",
                        "active": True,
                        "created": datetime(2026, 1, day),
                    },
                )
                connection.execute(
                    text(
                        "INSERT INTO applicant_profile (id, user_id, first_name, last_name, education_level,"
                        " association_name, association_registration, association_city_id, association_field,"
                        " association_role, association_years)"
                        " VALUES (:id, :id, 'A', 'B', 'licence', :name, :number, :city, :field, 'Membre', 1)"
                    ),
                    {"id": number, "name": name, "number": registration, "city": city_id, "field": field},
                )
        upgrade()
        with db.engine.connect() as connection:
            entries = {
                row.id: row
                for row in connection.execute(
                    text(
                        "SELECT id, name_fr, registration_number, registration_key, city_id, field, state"
                        " FROM association"
                    )
                )
            }
            links = dict(connection.execute(text("SELECT id, association_id FROM applicant_profile")).all())
            kept = connection.execute(
                text("SELECT association_registration FROM applicant_profile ORDER BY id")
            ).scalars()
            kept = list(kept)
        db.engine.dispose()
    # The three spellings are one entry, with all three profiles, named after the earliest (3).
    assert links[1] == links[2] == links[3]
    amal = entries[links[1]]
    assert (amal.name_fr, amal.registration_number, amal.registration_key) == (
        "Amal",
        "RSK/2015/0421",
        "RSK20150421",
    )
    assert (amal.city_id, amal.field, amal.state) == (None, "youth", "to_verify")
    # Another number stays separate.
    nour = entries[links[4]]
    assert links[4] != links[1]
    assert (nour.name_fr, nour.registration_key, nour.city_id, nour.field) == (
        "Association Nour",
        "RSK20160001",
        2,
        "education",
    )
    # No number: an entry each, with no key (a shared name is no proof of one association).
    assert links[5] != links[6]
    assert entries[links[5]].registration_key is None and entries[links[6]].registration_key is None
    # An anonymised profile names no association.
    assert links[7] is None
    assert len(entries) == 4
    # The free text stays as typed.
    assert kept == [p[1] for p in profiles]


SEATS_PER_ASSOCIATION_REVISION = "d4a8c2e6f913"


def test_seats_held_at_upgrade_are_counted_in_their_association(empty_database_url):
    """Issue 14, item 3: seats already held count in the applicant's association; no cap is set."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    now = datetime(2026, 5, 1)
    with app.app_context():
        upgrade(revision=_revision_before(SEATS_PER_ASSOCIATION_REVISION))
        with db.engine.begin() as connection:
            run = connection.execute
            run(
                text(
                    "INSERT INTO region (id, code, name_fr, name_ar, name_en) VALUES (1, 'R', 'R', 'R', 'R')"
                )
            )
            run(
                text(
                    "INSERT INTO city (id, slug, region_id, name_fr, name_ar, name_en) VALUES (1, 'c', 1, 'C', 'C', 'C')"
                )
            )
            run(
                text(
                    "INSERT INTO track (id, code, domain, min_education, title_fr, title_ar, title_en,"
                    " description_fr, description_ar, description_en)"
                    " VALUES (1, 'T', 'digital', 'none', 'T', 'T', 'T', 'D', 'D', 'D')"
                )
            )
            run(
                text(
                    "INSERT INTO offering (id, track_id, city_id, academic_year, seats, seats_held, opens_at,"
                    " closes_at, status, created_at) VALUES (1, 1, 1, '2025-2026', 10, 3, :t, :t, 'open', :t)"
                ),
                {"t": now},
            )
            run(
                text(
                    "INSERT INTO association (id, name_fr, registration_number, registration_key, field, state,"
                    " created_at) VALUES (1, 'A', 'N1', 'N1', 'social', 'to_verify', :t)"
                ),
                {"t": now},
            )
            # Members 1 and 2 hold seats, 3 waits; 4 holds one with no association.
            for n, (association, status) in enumerate(
                [(1, "accepted"), (1, "confirmed"), (1, "waitlisted"), (None, "accepted")], start=1
            ):
                run(
                    text(
                        'INSERT INTO "user" (id, email, role, locale, active, auth_version, created_at)'
                        " VALUES (:id, :email, 'applicant', 'fr', :active, 1, :t)"
                    ),
                    {"id": n, "email": f"m{n}@example.ma", "active": True, "t": now},
                )
                run(
                    text(
                        "INSERT INTO applicant_profile (id, user_id, first_name, last_name, education_level,"
                        " association_name, association_registration, association_field, association_role,"
                        " association_years, association_id)"
                        " VALUES (:id, :id, 'A', 'B', 'licence', 'A', 'N1', 'social', 'Membre', 1, :association)"
                    ),
                    {"id": n, "association": association},
                )
                run(
                    text(
                        "INSERT INTO application (id, reference, applicant_id, offering_id, academic_year, status,"
                        " motivation, expected_benefit, submitted_at, updated_at, version)"
                        " VALUES (:id, :ref, :id, 1, '2025-2026', :status, 'm', 'b', :t, :t, 1)"
                    ),
                    {"id": n, "ref": f"APP-{n}", "status": status, "t": now},
                )
        upgrade()
        with db.engine.connect() as connection:
            counters = connection.execute(
                text("SELECT offering_id, association_id, held FROM offering_association_seat")
            ).all()
            counted_in = dict(
                connection.execute(text("SELECT id, seat_association_id FROM application")).all()
            )
            cap = connection.execute(text("SELECT max_seats_per_association FROM offering")).scalar()
        db.engine.dispose()
    assert [tuple(row) for row in counters] == [(1, 1, 2)]
    assert counted_in == {1: 1, 2: 1, 3: None, 4: None}
    assert cap is None


ENDORSEMENT_REVISION = "e7c3f1a9b254"


def test_each_linked_profile_gets_a_pending_claim_at_upgrade(empty_database_url):
    """Issue 14, item 2: a profile that names a register entry claims it, pending; none else."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    now = datetime(2026, 5, 1)
    with app.app_context():
        upgrade(revision=_revision_before(ENDORSEMENT_REVISION))
        with db.engine.begin() as connection:
            run = connection.execute
            run(
                text(
                    "INSERT INTO region (id, code, name_fr, name_ar, name_en) VALUES (1, 'R', 'R', 'R', 'R')"
                )
            )
            run(
                text(
                    "INSERT INTO city (id, slug, region_id, name_fr, name_ar, name_en) VALUES (1, 'c', 1, 'C', 'C', 'C')"
                )
            )
            run(
                text(
                    "INSERT INTO track (id, code, domain, min_education, title_fr, title_ar, title_en,"
                    " description_fr, description_ar, description_en)"
                    " VALUES (1, 'T', 'digital', 'none', 'T', 'T', 'T', 'D', 'D', 'D')"
                )
            )
            run(
                text(
                    "INSERT INTO offering (id, track_id, city_id, academic_year, seats, seats_held, opens_at,"
                    " closes_at, status, created_at) VALUES (1, 1, 1, '2025-2026', 10, 0, :t, :t, 'open', :t)"
                ),
                {"t": now},
            )
            for n in (1, 2):
                run(
                    text(
                        "INSERT INTO association (id, name_fr, registration_number, registration_key, field,"
                        " state, created_at) VALUES (:id, 'A', :number, :number, 'social', 'to_verify', :t)"
                    ),
                    {"id": n, "number": f"N{n}", "t": now},
                )
            # Members 1 and 2 of association 1, 3 of association 2, 4 of none (anonymised).
            for n, association in enumerate([1, 1, 2, None], start=1):
                run(
                    text(
                        'INSERT INTO "user" (id, email, role, locale, active, auth_version, created_at)'
                        " VALUES (:id, :email, 'applicant', 'fr', :active, 1, :t)"
                    ),
                    {"id": n, "email": f"m{n}@example.ma", "active": True, "t": now},
                )
                run(
                    text(
                        "INSERT INTO applicant_profile (id, user_id, first_name, last_name, education_level,"
                        " association_name, association_registration, association_field, association_role,"
                        " association_years, association_id)"
                        " VALUES (:id, :id, 'A', 'B', 'licence', 'A', 'N1', 'social', 'Membre', 1, :association)"
                    ),
                    {"id": n, "association": association},
                )
        upgrade()
        with db.engine.connect() as connection:
            claims = connection.execute(
                text(
                    "SELECT user_id, association_id, state, decided_by_id, decided_at FROM membership"
                    " ORDER BY user_id"
                )
            ).all()
            required = connection.execute(text("SELECT endorsement_required FROM offering")).scalar()
            referents = connection.execute(text("SELECT COUNT(*) FROM association_referent")).scalar()
        db.engine.dispose()
    assert [tuple(row) for row in claims] == [
        (1, 1, "pending", None, None),
        (2, 1, "pending", None, None),
        (3, 2, "pending", None, None),
    ]
    assert not required
    assert referents == 0


COUNTS_REVISION = "a3c5e8f1b742"


def test_the_counts_per_offering_and_status_are_filled_at_upgrade(empty_database_url):
    """Issue 16, item 4: the kept counts start equal to the applications already there."""
    from flask_migrate import upgrade

    from portal.applications import counts

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    now = datetime(2026, 5, 1)
    with app.app_context():
        upgrade(revision=_revision_before(COUNTS_REVISION))
        with db.engine.begin() as connection:
            run = connection.execute
            run(
                text(
                    "INSERT INTO region (id, code, name_fr, name_ar, name_en) VALUES (1, 'R', 'R', 'R', 'R')"
                )
            )
            run(
                text(
                    "INSERT INTO city (id, slug, region_id, name_fr, name_ar, name_en) VALUES (1, 'c', 1, 'C', 'C', 'C')"
                )
            )
            run(
                text(
                    "INSERT INTO track (id, code, domain, min_education, title_fr, title_ar, title_en,"
                    " description_fr, description_ar, description_en)"
                    " VALUES (1, 'T', 'digital', 'none', 'T', 'T', 'T', 'D', 'D', 'D')"
                )
            )
            for offering_id in (1, 2, 3):
                run(
                    text(
                        "INSERT INTO offering (id, track_id, city_id, academic_year, seats, seats_held, opens_at,"
                        " closes_at, status, created_at, endorsement_required)"
                        " VALUES (:id, 1, 1, :year, 10, 0, :t, :t, 'open', :t, :no)"
                    ),
                    {
                        "id": offering_id,
                        "year": f"{2023 + offering_id}-{2024 + offering_id}",
                        "t": now,
                        "no": False,
                    },
                )
            statuses = [
                (1, "submitted"),
                (1, "submitted"),
                (1, "rejected"),
                (2, "waitlisted"),
                (2, "submitted"),
            ]
            for n, (offering_id, status) in enumerate(statuses, start=1):
                run(
                    text(
                        'INSERT INTO "user" (id, email, role, locale, active, auth_version, created_at)'
                        " VALUES (:id, :email, 'applicant', 'fr', :active, 1, :t)"
                    ),
                    {"id": n, "email": f"m{n}@example.ma", "active": True, "t": now},
                )
                run(
                    text(
                        "INSERT INTO application (id, reference, applicant_id, offering_id, academic_year, status,"
                        " motivation, expected_benefit, submitted_at, updated_at, version)"
                        " VALUES (:id, :ref, :id, :offering, '2025-2026', :status, 'm', 'b', :t, :t, 1)"
                    ),
                    {"id": n, "ref": f"APP-{n}", "offering": offering_id, "status": status, "t": now},
                )
        upgrade()
        with db.engine.connect() as connection:
            kept = connection.execute(
                text("SELECT offering_id, status, n FROM application_count ORDER BY offering_id, status")
            ).all()
        assert counts.differences() == []
        db.session.remove()
        db.engine.dispose()
    assert [tuple(row) for row in kept] == [
        (1, "rejected", 1),
        (1, "submitted", 2),
        (2, "submitted", 1),
        (2, "waitlisted", 1),
    ]


DEMAND_COUNTS_REVISION = "b8e4d2a6c931"


def test_the_demand_counts_are_filled_at_upgrade(empty_database_url):
    """Issue 16, item 4: the kept interests and residents start equal to what the dashboard counted."""
    from flask_migrate import upgrade

    from portal.demand import counts

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "SECRET_KEY": "x", "TESTING": True})
    now = datetime(2026, 5, 1)
    with app.app_context():
        upgrade(revision=_revision_before(DEMAND_COUNTS_REVISION))
        with db.engine.begin() as connection:
            run = connection.execute
            run(
                text(
                    "INSERT INTO region (id, code, name_fr, name_ar, name_en) VALUES (1, 'R', 'R', 'R', 'R')"
                )
            )
            for city_id in (1, 2):
                run(
                    text(
                        "INSERT INTO city (id, slug, region_id, name_fr, name_ar, name_en)"
                        " VALUES (:id, :slug, 1, 'C', 'C', 'C')"
                    ),
                    {"id": city_id, "slug": f"c{city_id}"},
                )
            run(
                text(
                    "INSERT INTO track (id, code, domain, min_education, title_fr, title_ar, title_en,"
                    " description_fr, description_ar, description_en)"
                    " VALUES (1, 'T', 'digital', 'none', 'T', 'T', 'T', 'D', 'D', 'D')"
                )
            )
            # (role, active, city of the profile, interest in city): who counts is what the
            # dashboard counted — residents: active applicants; interests: active accounts.
            accounts = [
                ("applicant", True, 1, 1),
                ("applicant", True, 1, 2),
                ("applicant", False, 1, 1),
                ("reviewer", True, 2, 2),
                ("applicant", True, None, None),
            ]
            for n, (role, active, city_id, wish) in enumerate(accounts, start=1):
                run(
                    text(
                        'INSERT INTO "user" (id, email, role, locale, active, auth_version, created_at)'
                        " VALUES (:id, :email, :role, 'fr', :active, 1, :t)"
                    ),
                    {"id": n, "email": f"d{n}@example.ma", "role": role, "active": active, "t": now},
                )
                run(
                    text(
                        "INSERT INTO applicant_profile (id, user_id, first_name, last_name, city_id,"
                        " education_level, association_name, association_registration, association_field,"
                        " association_role, association_years)"
                        " VALUES (:id, :id, 'A', 'B', :city, 'licence', 'A', 'R', 'social', 'M', 1)"
                    ),
                    {"id": n, "city": city_id},
                )
                if wish:
                    run(
                        text(
                            "INSERT INTO interest (id, applicant_id, track_id, city_id, created_at)"
                            " VALUES (:id, :id, 1, :city, :t)"
                        ),
                        {"id": n, "city": wish, "t": now},
                    )
        upgrade()
        with db.engine.connect() as connection:
            kept_interests = connection.execute(
                text("SELECT track_id, city_id, n FROM interest_count ORDER BY track_id, city_id")
            ).all()
            kept_residents = connection.execute(
                text("SELECT city_id, n FROM resident_count ORDER BY city_id")
            ).all()
        assert counts.differences() == []
        db.session.remove()
        db.engine.dispose()
    assert [tuple(row) for row in kept_interests] == [(1, 1, 1), (1, 2, 2)]
    assert [tuple(row) for row in kept_residents] == [(1, 2)]
