"""Catalogue operations: seeding and academic years."""

from datetime import datetime, time, timedelta

from sqlalchemy import select

from portal.catalog.models import City, Offering, Region, Track
from portal.catalog.seed_data import OFFERINGS, REGIONS, TRACKS
from portal.extensions import db
from portal.timeutil import end_of_local_day, local_day, start_of_local_day, utcnow
from portal.vocabulary import OfferingStatus


def academic_year(day=None):
    """The academic year containing ``day`` (it starts in September): ``2026-2027``."""
    day = day or utcnow()
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


def seed_catalogue(now=None):
    """Create the regions, cities, tracks and first offerings that are missing; flush.

    Existing rows are left as they are (administrators may have edited them), so running
    it twice changes nothing. Returns the number of rows created.
    """
    now = now or utcnow()
    created = 0
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    cities = {c.slug: c for c in db.session.scalars(select(City))}
    for code, fr, ar, en, region_cities in REGIONS:
        region = regions.get(code)
        if region is None:
            region = regions[code] = Region(code=code, name_fr=fr, name_ar=ar, name_en=en)
            db.session.add(region)
            created += 1
        for slug, cfr, car, cen in region_cities:
            if slug not in cities:
                cities[slug] = City(slug=slug, region=region, name_fr=cfr, name_ar=car, name_en=cen)
                db.session.add(cities[slug])
                created += 1
    tracks = {t.code: t for t in db.session.scalars(select(Track))}
    for data in TRACKS:
        if data["code"] not in tracks:
            tracks[data["code"]] = Track(**data)
            db.session.add(tracks[data["code"]])
            created += 1
    db.session.flush()
    year = academic_year(now)
    existing = {
        (o.track_id, o.city_id)
        for o in db.session.scalars(select(Offering).where(Offering.academic_year == year))
    }
    # Open since yesterday; the last day to apply is in two months (the whole of that
    # day, in Moroccan time, as administrators set it).
    first_day = local_day(now) - timedelta(days=1)
    for code, slug in OFFERINGS:
        track, city = tracks[code], cities[slug]
        if (track.id, city.id) in existing:
            continue
        db.session.add(
            Offering(
                track=track,
                city=city,
                academic_year=year,
                seats=25,
                opens_at=start_of_local_day(first_day),
                closes_at=end_of_local_day(first_day + timedelta(days=61)),
                course_starts_on=datetime.combine(first_day + timedelta(days=91), time()),
                status=OfferingStatus.OPEN,
            )
        )
        created += 1
    db.session.flush()
    return created
