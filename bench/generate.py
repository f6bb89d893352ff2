"""Benchmark data in bulk: applicants, applications, documents, history, reviews, interests.

Rows go in with SQLAlchemy Core ``insert()`` in large executemany batches, with ids chosen
here so that rows refer to each other without reading anything back; on PostgreSQL the id
sequences are then moved past them. The catalogue is the real seed (``seed_catalogue``)
plus the previous academic year's offerings, so pages see the data they see in production.

From the command line (migrates the database first):

    python bench/generate.py --url sqlite:///bench/results/x.db --applications 10000

From tests, inside an application context (tables created, empty or not):

    from bench.generate import populate
    population = populate(applications=200, password_hash=factories_hash)

``populate`` is deterministic for a given ``seed`` and adds to what is there: calling it
on a database that already holds a population adds a second, disjoint one.
"""

import argparse
import json
import math
import random
import sys
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

if __package__ in (None, ""):  # ``python bench/generate.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.extensions import db  # noqa: E402
from portal.vocabulary import ApplicationStatus, CompletionReason, Recommendation  # noqa: E402

BENCH_PASSWORD = "bench-password-2026"  # noqa: S105 - throwaway accounts of a benchmark database
# The staff accounts' TOTP authenticator (staff must pass a second factor): base 32.
BENCH_TOTP_SECRET = "BENCHTOTPSECRETFORSTAFFACCOUNTSX"  # noqa: S105 - same
EMAIL_DOMAIN = "bench.example.org"
BATCH = 10_000

# Share of each status among the applications of the current and of the previous year.
# Rows of a review queue page (the portal's PAGE_SIZE).
QUEUE_PAGE = 50

S = ApplicationStatus
# This year's courses have mostly not started; some have, and record who completed them.
CURRENT_STATUSES = {
    S.SUBMITTED: 35,
    S.UNDER_REVIEW: 30,
    S.WAITLISTED: 10,
    S.REJECTED: 12,
    S.WITHDRAWN: 5,
    S.ACCEPTED: 4,
    S.CONFIRMED: 4,
    S.COMPLETED: 3,
    S.NOT_COMPLETED: 1,
}
# Last year's courses are over: their participants completed them, or not.
PREVIOUS_STATUSES = {
    S.CONFIRMED: 2,
    S.COMPLETED: 15,
    S.NOT_COMPLETED: 3,
    S.REJECTED: 45,
    S.WITHDRAWN: 10,
    S.EXPIRED: 5,
    S.WAITLISTED: 20,
}
# The transitions leading to each status (the history rows an application gets).
_TO_CONFIRMED = (S.SUBMITTED, S.UNDER_REVIEW, S.ACCEPTED, S.CONFIRMED)
PATHS = {
    S.SUBMITTED: (S.SUBMITTED,),
    S.UNDER_REVIEW: (S.SUBMITTED, S.UNDER_REVIEW),
    S.WAITLISTED: (S.SUBMITTED, S.UNDER_REVIEW, S.WAITLISTED),
    S.REJECTED: (S.SUBMITTED, S.UNDER_REVIEW, S.REJECTED),
    S.ACCEPTED: (S.SUBMITTED, S.UNDER_REVIEW, S.ACCEPTED),
    S.CONFIRMED: _TO_CONFIRMED,
    S.COMPLETED: (*_TO_CONFIRMED, S.COMPLETED),
    S.NOT_COMPLETED: (*_TO_CONFIRMED, S.NOT_COMPLETED),
    S.EXPIRED: (S.SUBMITTED, S.UNDER_REVIEW, S.ACCEPTED, S.EXPIRED),
    S.WITHDRAWN: (S.SUBMITTED, S.WITHDRAWN),
}
REVIEWED = frozenset(S) - {S.SUBMITTED, S.WITHDRAWN}
ACCEPTED_ONCE = S.ACCEPTED_OR_LATER
SEAT_HOLDING = S.SEAT_HOLDING
# Applicants per association of the register (members of one association apply together).
MEMBERS_PER_ASSOCIATION = 3
REASONS = CompletionReason.values()
EDUCATION = ("baccalaureate", "bac2", "licence", "licence", "master")
FIELDS = ("education", "social", "health", "environment", "culture", "youth", "women")
FIRST_NAMES = ("Amina", "Youssef", "Salma", "Omar", "Khadija", "Mehdi", "Fatima", "Hamza", "Imane", "Rachid")
LAST_NAMES = ("Bennani", "El Idrissi", "Alaoui", "Tazi", "Berrada", "Chraibi", "Amrani", "Fassi")
MOTIVATION = (
    "Notre association accompagne les jeunes du quartier depuis plusieurs années ; cette "
    "formation nous aiderait à structurer nos projets, à suivre nos finances et à mieux "
    "communiquer avec nos partenaires et nos bénéficiaires. "
)
BENEFIT = "Former à mon tour les autres membres du bureau et améliorer nos dossiers de financement."


@dataclass
class Population:
    """What a population holds, and the accounts and filters the benchmark scenarios use."""

    applications: int
    applicants: int
    password: str
    totp_secret: str
    admin_email: str
    reviewer_email: str
    applicant_email: str
    newcomer_email: str = ""
    current_offering_ids: list = field(default_factory=list)
    previous_offering_ids: list = field(default_factory=list)
    queue_offering_id: int | None = None
    queue_status: str = ApplicationStatus.UNDER_REVIEW.value
    queue_count: int = 0
    burst_emails: list = field(default_factory=list)
    burst_offering_ids: list = field(default_factory=list)
    rows: dict = field(default_factory=dict)
    schema_drift: list = field(default_factory=list)

    def as_dict(self):
        """A JSON-friendly copy (the burst lists shortened to their length)."""
        data = asdict(self)
        data["burst_emails"] = len(self.burst_emails)
        data["burst_offering_ids"] = len(self.burst_offering_ids)
        return data


class _Ids:
    """Hands out ids above the largest one already in each table."""

    def __init__(self):
        self._next = {}

    def take(self, table, count=1):
        """Reserve ``count`` consecutive ids of ``table``; return the first."""
        if table.name not in self._next:
            current = db.session.scalar(select(func.max(table.c.id))) or 0
            self._next[table.name] = current + 1
        first = self._next[table.name]
        self._next[table.name] += count
        return first


def _bulk(table, rows, counts):
    """Insert ``rows`` into ``table`` in batches (Core executemany)."""
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(table), rows[start : start + BATCH])
    counts[table.name] = counts.get(table.name, 0) + len(rows)


def _weighted(rng, weights):
    """A key of ``weights`` drawn in proportion to its weight."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _previous_year_offerings(current, now, ids, counts):
    """Closed offerings of the previous academic year for the current ones' tracks and cities."""
    from portal.catalog.models import Offering
    from portal.catalog.operations import academic_year

    table = Offering.__table__
    year = academic_year(now - timedelta(days=365))
    existing = {
        (o.track_id, o.city_id): o.id
        for o in db.session.scalars(select(Offering).where(Offering.academic_year == year))
    }
    rows, result = [], []
    for offering in current:
        key = (offering.track_id, offering.city_id)
        if key in existing:
            result.append(existing[key])
            continue
        new_id = ids.take(table)
        opens = offering.opens_at - timedelta(days=365)
        rows.append(
            {
                "id": new_id,
                "track_id": offering.track_id,
                "city_id": offering.city_id,
                "academic_year": year,
                "seats": offering.seats,
                "seats_held": 0,
                "opens_at": opens,
                "closes_at": opens + timedelta(days=61),
                "course_starts_on": opens + timedelta(days=91),
                "status": "closed",
                "closed_at": opens + timedelta(days=61),
                "created_at": opens - timedelta(days=10),
            }
        )
        result.append(new_id)
    _bulk(table, rows, counts)
    return result


def _users(
    role, count, password_hash, now, ids, counts, prefix, rng, cities, with_profile, associations=None
):
    """``count`` confirmed users of ``role`` (applicants with a full profile); return ids and emails.

    ``associations`` is ``(ids, chosen)``: each profile names one of the ids, written in ``chosen``.
    """
    from portal.auth.models import ApplicantProfile, User

    if count <= 0:
        return [], []
    first = ids.take(User.__table__, count)
    user_rows, profile_rows, emails = [], [], []
    profile_first = ids.take(ApplicantProfile.__table__, count) if with_profile else None
    for n in range(count):
        uid = first + n
        email = f"{prefix}-{uid}@{EMAIL_DOMAIN}"
        emails.append(email)
        created = now - timedelta(days=rng.randint(1, 400))
        user_rows.append(
            {
                "id": uid,
                "email": email,
                "password_hash": password_hash,
                "role": role,
                "locale": rng.choice(("fr", "fr", "fr", "ar", "en")),
                "active": True,
                "email_confirmed_at": created,
                "auth_version": 1,
                "consent_at": created,
                "consent_version": "2026-09",
                "created_at": created,
                "last_login_at": None,
            }
        )
        if with_profile:
            city_id = rng.choice(cities)
            profile_rows.append(
                {
                    "id": profile_first + n,
                    "user_id": uid,
                    "first_name": rng.choice(FIRST_NAMES),
                    "last_name": rng.choice(LAST_NAMES),
                    "first_name_ar": None,
                    "last_name_ar": None,
                    "cin": _cin(uid),
                    "birth_date": date(1970 + uid % 35, 1 + uid % 12, 1 + uid % 28),
                    "phone": f"+2126{uid % 100_000_000:08d}",
                    "city_id": city_id,
                    "education_level": rng.choice(EDUCATION),
                    "association_name": f"Association {rng.choice(LAST_NAMES)} {uid}",
                    "association_registration": f"REC-{uid}",
                    "association_city_id": city_id,
                    "association_field": rng.choice(FIELDS),
                    "association_role": "Membre du bureau",
                    "association_years": rng.randint(1, 15),
                    "association_description": None,
                    "association_id": _member_of(associations, uid, rng),
                }
            )
    if role != "applicant" and "totp_secret_encrypted" in User.__table__.c:
        from portal.auth import totp_secrets

        # Encrypted with the key of the instance folder, which the portal under benchmark shares.
        stored = totp_secrets.encrypt(BENCH_TOTP_SECRET)
        for row in user_rows:
            row.update(totp_secret_encrypted=stored, totp_enabled_at=row["created_at"], totp_last_step=None)
    _bulk(User.__table__, user_rows, counts)
    if profile_rows:
        _bulk(ApplicantProfile.__table__, profile_rows, counts)
    return [first + n for n in range(count)], emails


def _member_of(associations, uid, rng):
    """The association of the register the profile of ``uid`` names (None without a register)."""
    if not associations or not associations[0]:
        return None
    ids, chosen = associations
    chosen[uid] = rng.choice(ids)
    return chosen[uid]


def _associations(count, now, ids, counts, rng, cities):
    """``count`` verified associations of the register; return their ids."""
    from portal.associations.models import Association
    from portal.vocabulary import AssociationState

    if count <= 0:
        return []
    first = ids.take(Association.__table__, count)
    rows = [
        {
            "id": first + n,
            "name_fr": f"Association {rng.choice(LAST_NAMES)} {first + n}",
            "name_ar": None,
            "registration_number": f"REC-A-{first + n}",
            "registration_key": f"RECA{first + n}",
            "city_id": rng.choice(cities),
            "field": rng.choice(FIELDS),
            "founded_year": rng.randint(1990, 2024),
            "contact_email": None,
            "state": AssociationState.VERIFIED.value,
            "created_at": now - timedelta(days=rng.randint(30, 900)),
        }
        for n in range(count)
    ]
    _bulk(Association.__table__, rows, counts)
    return [row["id"] for row in rows]


def _recommendation(status):
    """The reviews' recommendation that goes with an application's status."""
    if status in ACCEPTED_ONCE:
        return Recommendation.ACCEPT.value
    return Recommendation.REJECT.value if status == S.REJECTED else Recommendation.WAITLIST.value


def _cin(uid):
    """A valid CIN (one or two letters, up to six digits) unique to the user id."""
    block = uid // 1_000_000
    return f"{chr(66 + block // 26 % 24)}{chr(65 + block % 26)}{uid % 1_000_000:06d}"


def _burst_offerings(count, now, ids, counts, rng):
    """``count`` open offerings with plenty of seats, on (track, city) pairs still free this year."""
    from portal.catalog.models import City, Offering, Track
    from portal.catalog.operations import academic_year

    if count <= 0:
        return []
    year = academic_year(now)
    taken = set(
        db.session.execute(select(Offering.track_id, Offering.city_id).where(Offering.academic_year == year))
    )
    city_ids = list(db.session.scalars(select(City.id).order_by(City.id)))
    track_ids = list(db.session.scalars(select(Track.id).order_by(Track.id)))
    pairs = [(t, c) for t in track_ids for c in city_ids if (t, c) not in taken]
    extra = 0
    while len(pairs) < count:
        # More offerings than the catalogue has pairs: add benchmark tracks.
        extra += 1
        track_id = ids.take(Track.__table__)
        code = f"BENCH-{track_id}"
        _bulk(
            Track.__table__,
            [
                {
                    "id": track_id,
                    "code": code,
                    "domain": "management",
                    "min_education": "secondary",
                    "title_fr": f"Formation de charge {track_id}",
                    "title_ar": f"تكوين {track_id}",
                    "title_en": f"Load track {track_id}",
                    "description_fr": "",
                    "description_ar": "",
                    "description_en": "",
                }
            ],
            counts,
        )
        pairs += [(track_id, c) for c in city_ids]
    opens = now - timedelta(days=2)
    first = ids.take(Offering.__table__, count)
    rows = [
        {
            "id": first + n,
            "track_id": track_id,
            "city_id": city_id,
            "academic_year": year,
            "seats": 1000,
            "seats_held": 0,
            "opens_at": opens,
            "closes_at": now + timedelta(days=30),
            "course_starts_on": now + timedelta(days=60),
            "status": "open",
            "closed_at": None,
            "created_at": opens,
        }
        for n, (track_id, city_id) in enumerate(pairs[:count])
    ]
    _bulk(Offering.__table__, rows, counts)
    return [first + n for n in range(count)]


def _fix_sequences():
    """On PostgreSQL, move every id sequence past the ids inserted explicitly."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        name = table.name
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{name}"), 0) + 1, false)'
            )
        )


def populate(
    applications,
    *,
    burst_applicants=0,
    burst_offerings=0,
    seed=2026,
    now=None,
    password_hash=None,
    commit=True,
):
    """Add a population of ``applications`` applications (plus burst accounts); return it.

    Runs inside an application context. The catalogue is seeded when missing; applicants
    have one or two applications over the current and the previous academic year, in every
    status, with documents, history rows and reviews, and seats never overbooked.
    ``burst_applicants`` confirmed applicants without applications and ``burst_offerings``
    open offerings with 1,000 seats are added for the submission burst.
    """
    from portal.applications import counts as application_counts
    from portal.applications.models import Application, Document, Interest, StatusChange
    from portal.audit import AuditEvent
    from portal.auth.passwords import hash_password
    from portal.catalog.models import City, Offering, OfferingAssociationSeat, offering_reviewers
    from portal.catalog.operations import academic_year, seed_catalogue
    from portal.demand import counts as demand_counts
    from portal.notifications.models import OutboxEmail
    from portal.review.models import Review
    from portal.timeutil import utcnow

    now = now or utcnow()
    rng = random.Random(seed)
    password_hash = password_hash or hash_password(BENCH_PASSWORD)
    counts = {}
    ids = _Ids()

    seed_catalogue(now)
    db.session.flush()
    year = academic_year(now)
    current = db.session.scalars(
        select(Offering)
        .where(Offering.academic_year == year, Offering.status == "open")
        .order_by(Offering.id)
    ).all()
    current = [o for o in current if o.seats < 1000]  # not the burst offerings of an earlier call
    city_ids = list(db.session.scalars(select(City.id).order_by(City.id)))
    previous_ids = _previous_year_offerings(current, now, ids, counts)
    offerings = [
        {"id": o.id, "year": year, "opens": o.opens_at, "closes": o.closes_at, "seats": o.seats}
        for o in current
    ]
    previous = {o.id: o for o in db.session.scalars(select(Offering).where(Offering.id.in_(previous_ids)))}
    offerings += [
        {"id": pid, "year": previous[pid].academic_year, "opens": previous[pid].opens_at,
         "closes": previous[pid].closes_at, "seats": previous[pid].seats}
        for pid in previous_ids
    ]  # fmt: skip
    by_id = {o["id"]: o for o in offerings}
    held = {
        o.id: o.seats_held for o in db.session.scalars(select(Offering).where(Offering.id.in_(list(by_id))))
    }

    # Staff: one administrator, three reviewers sharing the current offerings.
    (admin_id,), (admin_email,) = _users(
        "admin", 1, password_hash, now, ids, counts, "admin", rng, city_ids, False
    )
    reviewer_ids, reviewer_emails = _users(
        "reviewer", 3, password_hash, now, ids, counts, "reviewer", rng, city_ids, False
    )
    assignments = [{"offering_id": o.id, "user_id": reviewer_ids[0]} for o in current]
    assignments += [{"offering_id": o.id, "user_id": reviewer_ids[1 + n % 2]} for n, o in enumerate(current)]
    _bulk(offering_reviewers, assignments, counts)
    reviewers_of = {o.id: [reviewer_ids[0], reviewer_ids[1 + n % 2]] for n, o in enumerate(current)}
    for n, pid in enumerate(previous_ids):
        reviewers_of[pid] = [reviewer_ids[0], reviewer_ids[1 + n % 2]]

    # Applicants: one or two applications each, members of the register's associations.
    n_applicants = math.ceil(applications / 1.5) if applications else 0
    association_ids = _associations(
        math.ceil(n_applicants / MEMBERS_PER_ASSOCIATION), now, ids, counts, rng, city_ids
    )
    association_of = {}
    applicant_ids, applicant_emails = _users(
        "applicant", n_applicants, password_hash, now, ids, counts, "applicant", rng, city_ids, True,
        associations=(association_ids, association_of),
    )  # fmt: skip
    association_seats = {}
    app_rows, doc_rows, history_rows, review_rows, outbox_rows = [], [], [], [], []
    app_id = ids.take(Application.__table__, applications) if applications else 0
    doc_id = ids.take(Document.__table__, 2 * applications) if applications else 0
    doubles = applications - n_applicants
    queue_count = 0
    queue_offering = current[0].id if current else None
    history_table = StatusChange.__table__
    offering_ids = list(by_id)
    for k, applicant in enumerate(applicant_ids):
        chosen = rng.sample(offering_ids, 2 if k < doubles and len(offering_ids) > 1 else 1)
        if k < QUEUE_PAGE and queue_offering is not None and queue_offering not in chosen:
            chosen[0] = queue_offering
        for offering_id in chosen:
            offering = by_id[offering_id]
            status = _weighted(rng, CURRENT_STATUSES if offering["year"] == year else PREVIOUS_STATUSES)
            if offering_id == queue_offering and queue_count < QUEUE_PAGE:
                # The queue scenario's first page is full (50 rows) at every size, so the
                # page compared between 1,000 and 100,000 applications is the same page.
                status = S.UNDER_REVIEW
            if status in SEAT_HOLDING:
                if held[offering_id] >= offering["seats"]:
                    status = S.WAITLISTED
                else:
                    held[offering_id] += 1
                    key = (offering_id, association_of[applicant])
                    association_seats[key] = association_seats.get(key, 0) + 1
            if offering_id == queue_offering and status == S.UNDER_REVIEW:
                queue_count += 1
            latest = min(offering["closes"], now) - timedelta(minutes=1)
            span = max((latest - offering["opens"]).total_seconds(), 60)
            submitted = offering["opens"] + timedelta(seconds=rng.uniform(0, span))
            path = PATHS[status]
            moments = [submitted]
            for _step in path[1:]:
                step_max = max((now - moments[-1]).total_seconds(), 1)
                moments.append(moments[-1] + timedelta(seconds=rng.uniform(1, min(step_max, 3 * 86400))))
            mean = None
            if status in REVIEWED:
                totals = []
                for reviewer_id in rng.sample(reviewers_of[offering_id], rng.randint(1, 2)):
                    scores = [rng.randint(1, 5) for _ in range(3)]
                    totals.append(sum(scores))
                    review_rows.append(
                        {
                            "application_id": app_id,
                            "reviewer_id": reviewer_id,
                            "score_motivation": scores[0],
                            "score_engagement": scores[1],
                            "score_fit": scores[2],
                            "recommendation": _recommendation(status),
                            "comment": "Profil cohérent avec la formation.",
                            "created_at": moments[1],
                            "updated_at": moments[1],
                        }
                    )
                mean = sum(totals) / len(totals)
            decided = moments[-1] if status not in S.UNDECIDED else None
            app_rows.append(
                {
                    "id": app_id,
                    "reference": f"APP-{submitted.year}-{app_id:06d}",
                    "applicant_id": applicant,
                    "offering_id": offering_id,
                    "academic_year": offering["year"],
                    "status": status.value,
                    "seat_association_id": association_of[applicant] if status in SEAT_HOLDING else None,
                    "completion_reason": rng.choice(REASONS) if status == S.NOT_COMPLETED else None,
                    "motivation": MOTIVATION * rng.randint(1, 3),
                    "expected_benefit": BENEFIT,
                    "submitted_at": submitted,
                    "updated_at": moments[-1],
                    "decided_at": decided,
                    "confirmation_deadline": moments[path.index(S.ACCEPTED)] + timedelta(days=7)
                    if S.ACCEPTED in path
                    else None,
                    "mean_score": mean,
                    "version": len(path),
                }
            )
            for step, (to_status, moment) in enumerate(zip(path, moments, strict=True)):
                history_rows.append(
                    {
                        "application_id": app_id,
                        "from_status": path[step - 1].value if step else None,
                        "to_status": to_status.value,
                        "actor_id": applicant if to_status in (S.SUBMITTED, S.WITHDRAWN, S.CONFIRMED)
                        else (None if to_status == S.EXPIRED else reviewers_of[offering_id][0]),
                        "note": None,
                        "created_at": moment,
                    }
                )  # fmt: skip
                if step:
                    outbox_rows.append(
                        {
                            "to_address": applicant_emails[k],
                            "template": f"status_{to_status.value}",
                            "locale": "fr",
                            "subject": "Votre candidature",
                            "body_text": "Le statut de votre candidature a changé.",
                            "body_html": "<p>Le statut de votre candidature a changé.</p>",
                            "status": "sent",
                            "attempts": 1,
                            "next_attempt_at": moment,
                            "created_at": moment,
                            "sent_at": moment,
                            "user_id": applicant,
                        }
                    )
            doc_rows.append(_document(doc_id, app_id, "membership", submitted))
            doc_id += 1
            if rng.random() < 0.5:
                doc_rows.append(_document(doc_id, app_id, "cin", submitted))
            doc_id += 1
            app_id += 1
    _bulk(Application.__table__, app_rows, counts)
    _bulk(Document.__table__, doc_rows, counts)
    _bulk(history_table, history_rows, counts)
    _bulk(Review.__table__, review_rows, counts)
    _bulk(OutboxEmail.__table__, outbox_rows, counts)
    _bulk(
        OfferingAssociationSeat.__table__,
        [{"offering_id": o, "association_id": a, "held": n} for (o, a), n in association_seats.items()],
        counts,
    )
    for offering_id, value in held.items():
        db.session.execute(
            Offering.__table__.update().where(Offering.id == offering_id).values(seats_held=value)
        )
    # The counts per offering and status the workflow keeps, as the migration fills them.
    application_counts.fix()

    # Demand signals: some applicants want a track in a city without an offering.
    offered = set(db.session.execute(select(Offering.track_id, Offering.city_id)))
    track_ids = sorted({t for t, _c in offered})
    wishes = {}
    for applicant in applicant_ids[: max(len(applicant_ids) // 50, 1)]:
        pair = (rng.choice(track_ids), rng.choice(city_ids)) if track_ids else None
        if pair and pair not in offered:
            wishes[(applicant, *pair)] = {
                "applicant_id": applicant,
                "track_id": pair[0],
                "city_id": pair[1],
                "created_at": now - timedelta(days=rng.randint(0, 60)),
            }
    _bulk(Interest.__table__, list(wishes.values()), counts)
    _bulk(
        AuditEvent.__table__,
        [
            {
                "actor_id": admin_id,
                "action": "offering.open",
                "object_type": "offering",
                "object_id": str(o.id),
                "before": None,
                "after": {"status": "open"},
                "created_at": o.created_at,
            }
            for o in current
        ],
        counts,
    )

    # The submission burst: applicants without applications, offerings with many seats.
    burst_ids = _burst_offerings(burst_offerings, now, ids, counts, rng)
    _ids, burst_emails = _users(
        "applicant", burst_applicants, password_hash, now, ids, counts, "burst", rng, city_ids, True
    )
    # An applicant who has not applied yet: their dashboard is little more than the layout
    # every logged-in page shares (the benchmark's "logged-in floor").
    _ids, newcomer_emails = _users(
        "applicant", 1, password_hash, now, ids, counts, "newcomer", rng, city_ids, True
    )
    db.session.flush()
    # The demand the dashboard ranks (interests, residents), kept as the migration fills it.
    demand_counts.fix()
    _fix_sequences()
    current_ids = [o.id for o in current]
    if commit:
        db.session.commit()
    return Population(
        applications=applications,
        applicants=n_applicants,
        password=BENCH_PASSWORD,
        totp_secret=BENCH_TOTP_SECRET,
        admin_email=admin_email,
        reviewer_email=reviewer_emails[0],
        applicant_email=applicant_emails[0] if applicant_emails else "",
        newcomer_email=newcomer_emails[0],
        current_offering_ids=current_ids,
        previous_offering_ids=previous_ids,
        queue_offering_id=queue_offering,
        queue_count=queue_count,
        burst_emails=burst_emails,
        burst_offering_ids=burst_ids,
        rows=counts,
    )


def _document(doc_id, application_id, kind, moment):
    """A document row (the file itself is not written: no page of the benchmark reads it)."""
    return {
        "id": doc_id,
        "application_id": application_id,
        "kind": kind,
        "original_name": "attestation.pdf" if kind == "membership" else "cin.pdf",
        "stored_name": f"bench-{doc_id:010d}.pdf",
        "content_type": "application/pdf",
        "size": 48_213,
        "sha256": f"{doc_id:064x}",
        "uploaded_at": moment,
    }


def bench_app(url, instance_path=None):
    """A portal application bound to ``url`` for generating data (no rate limits, no mail)."""
    from portal import create_app

    config = {"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench-generator"}
    return create_app(config)


def prepare_database(url, applications, *, burst_applicants=0, burst_offerings=0, seed=2026):
    """Migrate the (empty) database at ``url``, add the baseline's tables, populate it."""
    from flask_migrate import upgrade

    from bench.baseline_app import create_tables

    app = bench_app(url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        drift = schema_drift()
        if drift:
            # The migrations lag behind the models (they are regenerated before a release):
            # measure the models' schema rather than fail on a missing column.
            db.drop_all()
            db.create_all()
        population = populate(
            applications, burst_applicants=burst_applicants, burst_offerings=burst_offerings, seed=seed
        )
        db.session.remove()
        create_tables(db.engine)
        analyze(db.engine)
        db.engine.dispose()
    population.schema_drift = drift
    return population


def analyze(engine):
    """On PostgreSQL, gather the planner's statistics as autovacuum does on a running server.

    Right after a bulk insert there are none and the queue's queries are planned badly
    (bitmap heap scans, 10-20 ms, instead of index-only scans under 2 ms). SQLite is left
    as the portal leaves it, without ``ANALYZE`` (with statistics it picked a slower plan
    for the dashboard's demand ranking: 133 ms instead of 53 at 100,000 applications).
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")


def schema_drift():
    """Differences between the migrated database and the models (empty when in step)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [str(diff)[:200] for diff in compare_metadata(context, db.metadata)]


def main(argv=None):
    """Command line: migrate and populate one database, print what it holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of an empty database")
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--burst-applicants", type=int, default=0)
    parser.add_argument("--burst-offerings", type=int, default=0)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    population = prepare_database(
        args.url,
        args.applications,
        burst_applicants=args.burst_applicants,
        burst_offerings=args.burst_offerings,
        seed=args.seed,
    )
    print(json.dumps(population.as_dict(), indent=2, default=str))


if __name__ == "__main__":
    main()
