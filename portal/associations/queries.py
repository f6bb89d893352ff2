"""Read-side of the register: finding an entry by name, number or city.

The applicants' search box (registration, profile) and the administrators' register list
match entries the same way.
"""

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager

from portal.associations.models import Association
from portal.associations.operations import normalise_registration
from portal.catalog.models import City
from portal.extensions import db
from portal.safety import MAX_ID
from portal.vocabulary import AssociationState

# What a search box sends at most; longer text is cut, never refused.
MAX_QUERY = 100
# Fewer characters than this match too much to be worth a query.
MIN_QUERY = 2
# Entries an applicant's search shows: enough to pick from, too few to list the register.
SEARCH_LIMIT = 10


def like_pattern(text):
    """A LIKE pattern matching ``text`` anywhere, with the wildcards in it escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matching(q):
    """The condition "name (fr/ar), number in any spelling, or city (fr/ar/en) contains ``q``".

    The statement it filters must join City on ``Association.city_id`` (outer join).
    """
    pattern = like_pattern(q.lower())
    conditions = [
        func.lower(column).like(pattern, escape="\\")
        for column in (
            Association.name_fr,
            Association.name_ar,
            Association.registration_number,
            City.name_fr,
            City.name_ar,
            City.name_en,
        )
    ]
    key = normalise_registration(q)
    if key:
        conditions.append(Association.registration_key.like(like_pattern(key), escape="\\"))
    return or_(*conditions)


def clean_query(q):
    """The search text as searched: control characters out, trimmed, at most MAX_QUERY long."""
    text = "".join(ch for ch in (q or "") if ch.isprintable())
    return text.strip()[:MAX_QUERY]


def search(q, limit=SEARCH_LIMIT):
    """Entries (verified or to verify) matching ``q``, with their city, best first; one query.

    An entry whose name starts with the text comes before one that only contains it; then
    verified entries first, then by name. Too short a text finds nothing.
    """
    q = clean_query(q)
    if len(q) < MIN_QUERY:
        return []
    starts = func.lower(Association.name_fr).like(like_pattern(q.lower())[1:], escape="\\")
    stmt = (
        select(Association)
        .outerjoin(City, City.id == Association.city_id)
        .options(contains_eager(Association.city))
        .where(matching(q))
        .order_by(
            starts.desc(),
            (Association.state == AssociationState.VERIFIED).desc(),
            Association.name_fr,
            Association.id,
        )
        .limit(limit)
    )
    return db.session.scalars(stmt).all()


def entry(association_id):
    """The entry ``association_id`` with its city, or None (an id beyond any is None too)."""
    if association_id is None or not 0 < association_id <= MAX_ID:
        return None
    return db.session.get(Association, association_id)
