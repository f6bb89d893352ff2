"""The reach's figures for one academic year, by region, city and track, in a fixed number of queries.

Where: an application counts in the region, city and track of its offering (where the
training is given); a wish for a track counts in the city it names.

Definitions (shown on the pages):

- *associations reached*: distinct associations with at least one member whose application
  is confirmed or completed. The member's association is the one the seat was counted in
  (``Application.seat_association_id``, set when the seat was taken and moved when two
  register entries are merged), else the one of the applicant's profile today (a seat taken
  before the register existed);
- *actors trained*: distinct applicants whose application is completed;
- *acceptance rate*: applications accepted at some point (accepted, confirmed, expired,
  completed, not completed) over the decided ones (those, waitlisted and rejected); the
  applications withdrawn are left out of both, their decision being unknown;
- *completion rate*: completed over the outcomes recorded (completed and not completed);
- *unmet demand*: wishes of active applicants for a track in a city where that track has
  no offering that year.

The counts that add up (applications, decisions, outcomes, wishes) are one GROUP BY query
each at the finest grain (region, city, track), summed here for every level; the distinct
counts (associations, actors) are one GROUP BY query per level (whole programme, region,
city, region × track, track) over the confirmed and completed applications only. The
number of queries never depends on the data.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, exists, func, literal, select

from portal.applications.models import Application, Interest
from portal.auth.models import ApplicantProfile, User
from portal.catalog.models import City, Offering, Region, Track
from portal.catalog.operations import academic_year
from portal.extensions import db
from portal.timeutil import utcnow
from portal.vocabulary import ApplicationStatus as S

# Decided, for the acceptance rate: accepted at some point, waitlisted or rejected.
ACCEPTANCE_BASE = S.ACCEPTED_OR_LATER | {S.WAITLISTED, S.REJECTED}
# A member in one of these states means the association was reached.
REACHING = frozenset({S.CONFIRMED, S.COMPLETED})

# The levels of the table, each one GROUP BY: its name and the columns it groups by.
LEVELS = {
    "total": (),
    "region": (City.region_id,),
    "city": (City.region_id, Offering.city_id),
    "region_track": (City.region_id, Offering.track_id),
    "track": (Offering.track_id,),
}


@dataclass
class Figures:
    """The reach's figures of one group of applications (a region, a city, a track...)."""

    applications: int = 0
    decided: int = 0
    accepted: int = 0
    outcomes: int = 0
    completed: int = 0
    associations: int = 0
    actors: int = 0
    demand: int = 0

    @property
    def acceptance_rate(self):
        """Accepted at some point over decided (0 to 1), None without a decision."""
        return self.accepted / self.decided if self.decided else None

    @property
    def completion_rate(self):
        """Completed over outcomes recorded (0 to 1), None before any outcome."""
        return self.completed / self.outcomes if self.outcomes else None

    @property
    def empty(self):
        """Nothing to show: no application and no unmet demand."""
        return not self.applications and not self.demand


@dataclass
class Reach:
    """The figures of a year: ``levels[name][key]`` is a Figures, ``key`` the grouping ids."""

    year: str
    levels: dict = field(default_factory=dict)

    def get(self, level, *key):
        """The Figures of ``key`` at ``level`` (zeros when nothing was counted there)."""
        return self.levels.get(level, {}).get(key) or Figures()

    @property
    def total(self):
        """The whole programme's figures."""
        return self.get("total")


def _in(statuses):
    return Application.status.in_(sorted(statuses))


def _counted(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# The finest grain of the additive counts: every level is a sum of these cells.
_CELL = (City.region_id, Offering.city_id, Offering.track_id)


def _year_applications(year, *columns):
    """SELECT ``columns`` FROM the year's applications joined with their offering and city."""
    return (
        select(*columns)
        .select_from(Offering)
        .join(City, City.id == Offering.city_id)
        .join(Application, Application.offering_id == Offering.id)
        .where(Offering.academic_year == year)
    )


def _cells(year):
    """``{(region_id, city_id, track_id): (applications, decided, accepted, outcomes, completed)}``.

    One GROUP BY query that reads only the offering and status of each application (the
    index on both answers it without reading the applications' rows).
    """
    rows = db.session.execute(
        _year_applications(
            year,
            *_CELL,
            func.count(Application.id),
            _counted(_in(ACCEPTANCE_BASE)),
            _counted(_in(S.ACCEPTED_OR_LATER)),
            _counted(_in(S.OUTCOMES)),
            _counted(Application.status == S.COMPLETED),
        ).group_by(*_CELL)
    )
    return {tuple(row[:3]): tuple(int(v or 0) for v in row[3:]) for row in rows}


def _distinct(year, columns):
    """``{key: (associations, actors)}`` of the year grouped by ``columns``; one GROUP BY query.

    Distinct counts do not add up across cities or tracks (one association may be reached
    in two cities), so each level has its own; only the confirmed and completed
    applications are read, at most as many as the year's seats.
    """
    association = func.coalesce(Application.seat_association_id, ApplicantProfile.association_id)
    keys = columns or (literal(0),)
    stmt = (
        _year_applications(
            year,
            *keys,
            func.count(func.distinct(association)),
            func.count(func.distinct(case((Application.status == S.COMPLETED, Application.applicant_id)))),
        )
        .outerjoin(ApplicantProfile, ApplicantProfile.user_id == Application.applicant_id)
        .where(_in(REACHING))
    )
    if columns:
        stmt = stmt.group_by(*columns)
    return {
        (tuple(row[: len(columns)])): (int(row[-2] or 0), int(row[-1] or 0))
        for row in db.session.execute(stmt)
    }


def _level_key(name, region_id, city_id, track_id):
    """The key of a cell's group at level ``name``."""
    return {
        "total": (),
        "region": (region_id,),
        "city": (region_id, city_id),
        "region_track": (region_id, track_id),
        "track": (track_id,),
    }[name]


def _year_end(year):
    """The first moment after the academic year ``2026-2027``: 1 September 2027."""
    return datetime(int(year[-4:]), 9, 1)


def _demand(year):
    """``[(region_id, city_id, track_id, wishes)]``: unmet demand of the year; one query.

    Wishes made up to the end of the year, by applicants still active, for a track in a
    city where that track has no offering that year (whatever its status).
    """
    offered = exists().where(
        Offering.track_id == Interest.track_id,
        Offering.city_id == Interest.city_id,
        Offering.academic_year == year,
    )
    return db.session.execute(
        select(City.region_id, Interest.city_id, Interest.track_id, func.count(Interest.id))
        .join(City, City.id == Interest.city_id)
        .join(User, User.id == Interest.applicant_id)
        .where(User.active.is_(True), Interest.created_at < _year_end(year), ~offered)
        .group_by(City.region_id, Interest.city_id, Interest.track_id)
    ).all()


def reach(year, levels=tuple(LEVELS)):
    """The figures of ``year`` at each of ``levels`` (names of LEVELS), demand included."""
    result = Reach(year=year)
    for name in levels:
        result.levels[name] = {}
    # Applications, decisions and outcomes are counted once each: a group sums its cells.
    for (region_id, city_id, track_id), counts in _cells(year).items():
        for name in levels:
            figures = result.levels[name].setdefault(
                _level_key(name, region_id, city_id, track_id), Figures()
            )
            figures.applications += counts[0]
            figures.decided += counts[1]
            figures.accepted += counts[2]
            figures.outcomes += counts[3]
            figures.completed += counts[4]
    for name in levels:
        for key, (associations, actors) in _distinct(year, LEVELS[name]).items():
            figures = result.levels[name].setdefault(key, Figures())
            figures.associations, figures.actors = associations, actors
    # So are wishes.
    for region_id, city_id, track_id, wishes in _demand(year):
        for name in levels:
            key = _level_key(name, region_id, city_id, track_id)
            result.levels[name].setdefault(key, Figures()).demand += wishes
    return result


def current_year():
    """The academic year under way (the pages' default)."""
    return academic_year(utcnow())


def years():
    """The academic years that have offerings, latest first, with the current one in any case."""
    found = db.session.scalars(
        select(Offering.academic_year).distinct().order_by(Offering.academic_year.desc())
    ).all()
    return sorted({*found, current_year()}, reverse=True)


def regions():
    """Every region, by French name (the twelve of the chart)."""
    return db.session.scalars(select(Region).order_by(Region.name_fr)).all()


def cities():
    """``{id: city}`` of every city."""
    return {c.id: c for c in db.session.scalars(select(City))}


def tracks():
    """Every track, by code."""
    return db.session.scalars(select(Track).order_by(Track.code)).all()
