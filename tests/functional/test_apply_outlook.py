"""Beside each offering, a logged-in applicant sees the apply button or why they cannot apply.

The reasons are the submission's own rules (applications.operations): what the page
says before the click is what the refusal would have said after it. Visitors keep the
button (the rules apply once they are logged in); a full offering says, before anyone
applies, that a new application can only go to the waiting list.
"""

import pytest

from portal.extensions import db
from tests import factories
from tests.helpers import page_text, post_application

PAGES = ("/", "/tracks", "/tracks/{code}")
WAITLIST = (
    "Toutes les places sont attribuées : une nouvelle candidature ne peut aller que sur la liste d'attente."
)


def pages(client, offering):
    """The catalogue pages that show ``offering``, as text."""
    return {path: page_text(client.get(path.format(code=offering.track.code))) for path in PAGES}


def test_an_applicant_below_the_minimum_level_is_told_why_instead_of_the_button(app, client):
    offering = factories.offering(track=factories.track(min_education="licence"))
    applicant = factories.user(profile={"education_level": "baccalaureate"})
    db.session.commit()
    reason = "Cette formation demande au moins le niveau « Licence (Bac + 3) » ; votre profil indique « Baccalauréat »."

    # A visitor gets the button: the rules come at login.
    for path, page in pages(app.test_client(), offering).items():
        assert f'href="/apply/{offering.id}"' in page, path
        assert reason not in page, path

    factories.login(client, applicant)
    for path, page in pages(client, offering).items():
        assert f'href="/apply/{offering.id}"' not in page, path
        assert f'class="apply-reason small mb-0" data-offering="{offering.id}"' in page, path
        assert "Vous ne pouvez pas postuler :" in page and reason in page, path
    # The same words as the refusal the submission gives.
    response = post_application(client, offering)
    assert response.status_code == 422 and reason in page_text(response)


def test_an_applicant_who_applied_is_sent_to_the_application(app, client):
    offering = factories.offering()
    applicant = factories.user()
    application = factories.application(applicant, offering)
    db.session.commit()
    factories.login(client, applicant)
    for path, page in pages(client, offering).items():
        assert f'href="/apply/{offering.id}"' not in page, path
        assert "Vous avez déjà postulé à cette session." in page, path
        assert f'href="/me/applications/{application.reference}"' in page, path


def test_an_applicant_at_the_limit_of_active_applications_is_told_so(app, client):
    app.config["MAX_ACTIVE_APPLICATIONS"] = 2
    applicant = factories.user()
    for _ in range(2):
        factories.application(applicant, factories.offering())
    other = factories.offering()
    next_year = factories.offering(academic_year="2099-2100")
    db.session.commit()
    factories.login(client, applicant)
    page = pages(client, other)["/tracks"]
    assert f'href="/apply/{other.id}"' not in page
    assert "Vous avez déjà 2 candidatures en cours pour l'année" in page
    # The limit counts per academic year.
    assert f'href="/apply/{next_year.id}"' in page


def test_a_closed_window_is_the_reason_on_the_apply_page(app, client):
    applicant = factories.user()
    offering = factories.offering(status="closed")
    db.session.commit()
    factories.login(client, applicant)
    page = page_text(client.get(f"/apply/{offering.id}"))
    assert "Cette session n'accepte pas de candidatures." in page


def test_a_full_offering_says_the_application_goes_to_the_waiting_list(app, client):
    offering = factories.offering(seats=1)
    factories.application(offering_=offering, status="accepted")
    open_one = factories.offering()
    applicant = factories.user()
    db.session.commit()
    for who in ("visitor", "applicant"):
        if who == "applicant":
            factories.login(client, applicant)
        for path, page in pages(client, offering).items():
            assert WAITLIST in page and f'href="/apply/{offering.id}"' in page, (who, path)
            note = page.split(f'class="waitlist-note small mb-2" data-offering="{offering.id}"')
            assert len(note) == 2, (who, path)
        assert (
            f'class="waitlist-note small mb-2" data-offering="{open_one.id}"'
            not in pages(client, open_one)["/tracks"]
        )
    page = page_text(client.get(f"/apply/{offering.id}"))
    assert 'id="apply-waitlist"' in page and WAITLIST in page
    assert 'id="apply-waitlist"' not in page_text(client.get(f"/apply/{open_one.id}"))


@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_staff_are_not_offered_a_button_that_leads_nowhere(app, client, role):
    offering = factories.offering()
    staff = factories.user(role=role)
    db.session.commit()
    factories.login(client, staff)
    for path, page in pages(client, offering).items():
        assert f'href="/apply/{offering.id}"' not in page, path
