"""Valid form data for the portal's forms, for tests that then add or change one thing."""

import io
from datetime import timedelta

from portal.timeutil import local_day, utcnow
from tests.samples import PDF

PASSWORD = "Zitoune verte sous la pluie 2026"
MOTIVATION = (
    "Je coordonne les bénévoles de notre association et je veux apprendre à numériser nos outils. " * 2
)
BENEFIT = "Une association mieux organisée, des dossiers de financement numériques."


def registration(city, **overrides):
    """The registration form, valid; ``None`` as a value drops the field."""
    data = {
        "first_name": "Amina",
        "last_name": "El Idrissi",
        "first_name_ar": "أمينة",
        "last_name_ar": "الإدريسي",
        "cin": "ab123456",
        "birth_date": "1990-05-17",
        "phone": "06 12 34 56 78",
        "city_id": str(city.id),
        "education_level": "licence",
        "association_name": "Association Espoir Jeunesse",
        "association_registration": "REC-2019-0042",
        "association_city_id": str(city.id),
        "association_field": "education",
        "association_role": "Trésorière",
        "association_years": "4",
        "email": "amina.new@example.org",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "locale": "fr",
        "consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def profile(user, **overrides):
    """The profile form of ``user`` with its current values (no sensitive change)."""
    p = user.profile
    data = {
        "first_name": p.first_name,
        "last_name": p.last_name,
        "first_name_ar": p.first_name_ar or "",
        "last_name_ar": p.last_name_ar or "",
        "cin": p.cin,
        "birth_date": p.birth_date.isoformat(),
        "phone": p.phone,
        "city_id": str(p.city_id),
        "education_level": p.education_level,
        "association_name": p.association_name,
        "association_registration": p.association_registration,
        "association_city_id": str(p.association_city_id),
        "association_field": p.association_field,
        "association_role": p.association_role,
        "association_years": str(p.association_years),
        "email": user.email,
        "locale": user.locale,
        "new_password": "",
        "new_password_confirm": "",
        "current_password": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def application(motivation=MOTIVATION, benefit=BENEFIT, membership=(PDF, "attestation.pdf"), **extra):
    """The application form (multipart); files are (bytes, filename) pairs."""
    data = {"motivation": motivation, "expected_benefit": benefit, **extra}
    if membership is not None:
        data["membership"] = (io.BytesIO(membership[0]), membership[1])
    return data


def review(**overrides):
    """A reviewer's rubric."""
    data = {
        "score_motivation": "4",
        "score_engagement": "3",
        "score_fit": "5",
        "recommendation": "accept",
        "comment": "Très bon dossier.",
    }
    data.update(overrides)
    return data


def decision(application, decision="accepted", **overrides):
    """A decision on ``application`` at its current version."""
    return {"decision": decision, "message": "", "version": str(application.version), **overrides}


def offering_edit(offering, **overrides):
    """The admin offering form with the offering's current values (days in Moroccan time)."""
    data = {
        "seats": str(offering.seats),
        "opens_on": local_day(offering.opens_at).isoformat(),
        "closes_on": local_day(offering.closes_at).isoformat(),
        "course_starts_on": "",
        "status": offering.status,
    }
    data.update(overrides)
    return data


def new_offering(track, city, **overrides):
    """The admin "open a track in a city" form."""
    now = utcnow()
    data = {
        "track_id": str(track.id),
        "city_id": str(city.id),
        "academic_year": f"{now.year}-{now.year + 1}",
        "seats": "20",
        "opens_on": local_day(now).isoformat(),
        "closes_on": (local_day(now) + timedelta(days=30)).isoformat(),
        "course_starts_on": "",
        "action": "open",
    }
    data.update(overrides)
    return data


def city_form(region, **overrides):
    """The admin city form."""
    data = {"name_fr": "Oujda", "name_ar": "وجدة", "name_en": "Oujda", "region_id": str(region.id)}
    data.update(overrides)
    return data


def track_form(**overrides):
    """The admin new-track form."""
    data = {
        "code": "NUM-NEW",
        "domain": "digital",
        "min_education": "secondary",
        "title_fr": "Outils numériques",
        "title_ar": "الأدوات الرقمية",
        "title_en": "Digital tools",
        "description_fr": "Description.",
        "description_ar": "وصف.",
        "description_en": "Description.",
    }
    data.update(overrides)
    return data
