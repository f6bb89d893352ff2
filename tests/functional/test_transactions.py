"""One transaction per request, committed once at its end; refusals shown in one way.

``portal.transaction``: ``attempt`` runs an operation in a savepoint and shows a UserError
next to its field (or flashes it); the request's writes are committed once, after the
view, unless the answer is an error; a UserError that escapes a view is a readable page.
"""

from contextlib import contextmanager

from flask import get_flashed_messages
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import event, func, select
from wtforms import StringField

from portal.applications.models import Interest, StatusChange
from portal.catalog.models import City
from portal.demand import operations as demand_operations
from portal.extensions import db
from portal.transaction import attempt
from portal.usererror import UserError
from portal.vocabulary import ApplicationStatus
from tests import factories
from tests.helpers import field_error, page_text
from tests.security import formdata


class RenameForm(FlaskForm):
    """A form with the one field the refusal below is about."""

    name = StringField()


def rename_twice(city, name):
    """An operation that writes (a city renamed, a new one added), then refuses."""
    city.name_fr = name
    factories.city("Kénitra", region=city.region)
    raise UserError(_l("Ce nom est déjà pris."), field="name")


def test_a_refusal_undoes_the_operation_and_shows_its_message_next_to_the_field(app):
    city = factories.city("Salé")
    db.session.commit()
    with app.test_request_context("/", method="POST", data={"name": "Témara"}):
        form = RenameForm(meta={"csrf": False})
        outcome = attempt(rename_twice, city, "Témara", form=form)
        assert not outcome.ok and outcome.error.field == "name"
        assert [str(message) for message in form.name.errors] == ["Ce nom est déjà pris."]
        # Shown next to the field, so not flashed as well.
        assert get_flashed_messages() == []
        db.session.commit()
    db.session.expire_all()
    assert db.session.scalars(select(City.name_fr)).all() == ["Salé"]


def test_a_refusal_without_a_field_of_the_form_is_flashed(app):
    city = factories.city("Salé")
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        outcome = attempt(rename_twice, city, "Témara", category="danger")
        assert not outcome.ok
        assert get_flashed_messages(with_categories=True) == [("danger", "Ce nom est déjà pris.")]


class OtherForm(FlaskForm):
    """A form without the field the refusal is about."""

    title = StringField()


def test_a_refusal_about_no_field_of_the_form_can_go_above_the_form(app):
    city = factories.city("Salé")
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        form = OtherForm(meta={"csrf": False})
        outcome = attempt(rename_twice, city, "Témara", form=form, others="form")
        assert not outcome.ok
        assert [str(message) for message in form.form_errors] == ["Ce nom est déjà pris."]
        assert not form.title.errors
        assert get_flashed_messages() == []


def test_a_refused_request_shows_the_message_by_the_field_and_writes_nothing(app, client, applicant):
    # The profile's refusal: a new address without the current password. The other
    # changes of the same form (the association's name) are not written either.
    data = formdata.profile(
        applicant, email="new@example.org", association_name="Changée", current_password="wrong one"
    )
    response = client.post("/me/profile", data=data)
    assert response.status_code == 200
    assert "Mot de passe actuel incorrect" in field_error(response, "current_password")
    db.session.expire_all()
    assert applicant.email == "amina@example.org"
    assert applicant.profile.association_name != "Changée"


@contextmanager
def counting_commits():
    """Count the database COMMITs of the requests made inside (a savepoint's release is not one)."""
    # The test's own reads end first: the client commits them before each request.
    db.session.commit()
    commits = []

    def _commit(_connection):
        commits.append(1)

    event.listen(db.engine, "commit", _commit)
    try:
        yield commits
    finally:
        event.remove(db.engine, "commit", _commit)


def test_a_request_commits_its_writes_once_at_its_end(app, client, applicant):
    application = factories.application(applicant=applicant)
    db.session.commit()
    reference = application.reference
    with counting_commits() as commits:
        response = client.post(f"/me/applications/{reference}/withdraw")
    assert response.status_code == 302
    # The status, its history, the email to the applicant: one transaction.
    assert len(commits) == 1
    db.session.expire_all()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(StatusChange)
            .where(StatusChange.application_id == application.id)
        )
        == 2
    )


def test_a_refused_transition_commits_nothing_of_it(app, client, applicant):
    application = factories.application(applicant=applicant, status="rejected")
    db.session.commit()
    response = client.post(f"/me/applications/{application.reference}/withdraw")
    assert response.status_code == 302
    page = page_text(client.get(response.location))
    assert "Cette action n'est pas possible pour cette candidature." in page
    db.session.expire_all()
    assert application.status == ApplicationStatus.REJECTED


def _interest(applicant):
    track = factories.track()
    city = factories.city("Fès")
    interest = Interest(applicant_id=applicant.id, track_id=track.id, city_id=city.id)
    db.session.add(interest)
    db.session.commit()
    return interest.id


def _interests():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Interest))


def test_a_user_error_escaping_a_view_is_a_readable_page_and_writes_nothing(
    app, client, applicant, monkeypatch
):
    interest_id = _interest(applicant)

    def refuse(interest):
        db.session.delete(interest)
        db.session.flush()
        raise demand_operations.InterestError(_l("Cette demande ne peut plus être retirée."))

    monkeypatch.setattr(demand_operations, "withdraw_interest", refuse)
    response = client.post(f"/me/interests/{interest_id}/delete")
    assert response.status_code == 422
    page = page_text(response)
    assert "Action impossible" in page and "Cette demande ne peut plus être retirée." in page
    assert _interests() == 1


def test_an_unexpected_failure_rolls_the_request_back(app, client, applicant, monkeypatch):
    interest_id = _interest(applicant)

    def fail(interest):
        db.session.delete(interest)
        db.session.flush()
        raise RuntimeError("boom")

    monkeypatch.setattr(demand_operations, "withdraw_interest", fail)
    with counting_commits() as commits:
        response = client.post(f"/me/interests/{interest_id}/delete")
    assert response.status_code == 500
    assert commits == []
    assert _interests() == 1
