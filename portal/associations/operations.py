"""The register's writes: declare or find an entry, edit, verify, merge.

Each write checks its rules (an AssociationError names the field it is about), flushes and
writes its audit events; the request commits.
"""

import re

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.associations import membership
from portal.associations.models import Association
from portal.audit import record
from portal.auth.validators import normalize_email
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.timeutil import utcnow
from portal.usererror import UserError
from portal.vocabulary import AssociationField, AssociationState

# What people put between the parts of a number: "RSK-2015-0421", "rsk 2015 0421", "RSK/2015/0421".
_SEPARATORS = re.compile(r"[\s\-/._]+")

# The columns an administrator edits (the key follows the number).
EDITABLE = ("name_fr", "name_ar", "registration_number", "city_id", "field", "founded_year", "contact_email")

FIRST_FOUNDING_YEAR = 1900


class AssociationError(UserError):
    """A write of the register that a rule refuses; ``field`` is the form field it is about."""


def normalise_registration(number):
    """The key of a registration number: upper-case, without spaces and separators (-/._)."""
    return _SEPARATORS.sub("", number or "").upper()


def find_by_number(number):
    """The entry whose number is ``number`` in any spelling, or None."""
    key = normalise_registration(number)
    if not key:
        return None
    return db.session.scalar(select(Association).where(Association.registration_key == key))


def _check(values, association=None, unique=True):
    """Refuse values the register cannot hold; return them cleaned (key and email normalised).

    With ``unique``, a number that is another entry's is refused too.
    """
    values = dict(values)
    if "name_fr" in values:
        values["name_fr"] = (values["name_fr"] or "").strip()
        if not values["name_fr"]:
            raise AssociationError(_l("Le nom de l'association est obligatoire."), field="name_fr")
    if "name_ar" in values:
        values["name_ar"] = (values["name_ar"] or "").strip() or None
    if "registration_number" in values:
        values["registration_number"] = (values["registration_number"] or "").strip()
        key = normalise_registration(values["registration_number"])
        if not key:
            raise AssociationError(
                _l("Le numéro du récépissé de dépôt est obligatoire."), field="registration_number"
            )
        owner = find_by_number(key) if unique else None
        if owner is not None and owner is not association:
            raise AssociationError(
                _l("Ce numéro de récépissé est déjà celui d'une autre association du registre."),
                field="registration_number",
            )
        values["registration_key"] = key
    if "field" in values and values["field"] not in AssociationField.values():
        raise AssociationError(_l("Domaine d'action inconnu."), field="field")
    year = values.get("founded_year")
    if year is not None and not FIRST_FOUNDING_YEAR <= year <= utcnow().year:
        raise AssociationError(_l("Année de création invalide."), field="founded_year")
    if values.get("contact_email"):
        address = normalize_email(values["contact_email"])
        if address is None:
            raise AssociationError(
                _l("Adresse email invalide (exemple : nom@exemple.ma)."), field="contact_email"
            )
        values["contact_email"] = address
    elif "contact_email" in values:
        values["contact_email"] = None
    return values


def check_declaration(*, name_fr, registration_number, field):
    """Refuse what could not be declared (no name, no number, unknown field), before any lookup.

    Registration calls it before looking at accounts, so that a refusal depends only on what
    was typed (the page never tells whether an account exists).
    """
    _check({"name_fr": name_fr, "registration_number": registration_number, "field": field}, unique=False)


def find_or_declare(*, name_fr, registration_number, field, city_id=None, **details):
    """The entry with this number in any spelling, else a new one "to verify"; flush.

    ``details`` are the optional columns (name_ar, founded_year, contact_email). An existing
    entry is returned as it is: what one member types never overwrites the register.
    """
    existing = find_by_number(registration_number)
    if existing is not None:
        return existing
    # Not checked for uniqueness here: the lookup above was that check, and a concurrent
    # declaration of the same number is met by the unique key below (its entry is returned).
    values = _check(
        {"name_fr": name_fr, "registration_number": registration_number, "field": field, **details},
        unique=False,
    )
    association = Association(city_id=city_id, state=AssociationState.TO_VERIFY, **values)
    try:
        # A savepoint: a concurrent declaration of the same number leaves the session usable.
        with db.session.begin_nested():
            db.session.add(association)
            db.session.flush()
    except IntegrityError:
        # Someone declared the same number first: theirs is the entry.
        existing = find_by_number(registration_number)
        if existing is None:
            raise
        return existing
    return association


def update_association(actor, association, **values):
    """Correct an entry's details (names, number, city, field, year, email); flush."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    values = _check(values, association)
    before, after = {}, {}
    for name, value in values.items():
        old = getattr(association, name)
        if old != value:
            if name != "registration_key":
                before[name], after[name] = old, value
            setattr(association, name, value)
    if after:
        record(actor, "association_changed", "association", association.id, before=before, after=after)
    db.session.flush()
    return association


def verify_association(actor, association):
    """Mark an entry as checked by an administrator; flush."""
    if association.state == AssociationState.VERIFIED:
        raise AssociationError(_l("Cette association est déjà vérifiée."))
    before = association.state
    association.state = AssociationState.VERIFIED
    record(
        actor,
        "association_verified",
        "association",
        association.id,
        before={"state": before},
        after={"state": AssociationState.VERIFIED.value},
    )
    db.session.flush()
    return association


def merge_associations(actor, keep, drop):
    """Make ``drop`` part of ``keep``: its members move to ``keep``, then it is deleted; flush.

    Applications follow their applicant's profile, so they follow the move too, and so
    do the seats ``drop``'s members hold (counted from now on in ``keep``'s counters).
    """
    if keep is None or drop is None or keep.id == drop.id:
        raise AssociationError(_l("Choisissez deux associations différentes."), field="keep")
    moved = sorted(profile.id for profile in drop.members)
    for profile in list(drop.members):
        profile.association = keep
    record(
        actor,
        "associations_merged",
        "association",
        keep.id,
        before={
            "merged": drop.id,
            "name_fr": drop.name_fr,
            "registration_number": drop.registration_number,
        },
        after={"members": moved},
    )
    db.session.flush()
    membership.merge_into(keep, drop)
    _move_seat_counters(keep, drop)
    db.session.delete(drop)
    db.session.flush()
    return keep


def _move_seat_counters(keep, drop):
    """Add ``drop``'s seat counters (per offering) to ``keep``'s and point its seats to ``keep``."""
    from portal.applications.models import Application
    from portal.catalog.models import OfferingAssociationSeat as Seat

    # The merged association may then hold more than an offering's cap: the seats were
    # given before; the cap applies to the next accept.
    rows = db.session.scalars(select(Seat).where(Seat.association_id == drop.id).with_for_update()).all()
    for row in rows:
        kept = db.session.scalar(
            select(Seat)
            .where(Seat.offering_id == row.offering_id, Seat.association_id == keep.id)
            .with_for_update()
        )
        if kept is None:
            db.session.add(Seat(offering_id=row.offering_id, association_id=keep.id, held=row.held))
        else:
            kept.held += row.held
        db.session.delete(row)
    db.session.flush()
    db.session.execute(
        update(Application)
        .where(Application.seat_association_id == drop.id)
        .values(seat_association_id=keep.id)
        .execution_options(synchronize_session=False)
    )
