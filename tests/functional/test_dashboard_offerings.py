"""The dashboard's open offerings and interests: read as rows, told per applicant, always current.

The offerings' own markup is made once per content (``templating._open_offering_parts``):
these tests check that what belongs to the reader (the reason they may not apply) never
travels to another reader, and that a change of the offering (title, seats) or of the
language shows on the next page.
"""

from portal.applications.models import Interest
from portal.extensions import db
from tests import factories
from tests.helpers import page_text

WAITLIST = (
    "Toutes les places sont attribuées : une nouvelle candidature ne peut aller que sur la liste d'attente."
)
LEVEL_REASON = "Cette formation demande au moins le niveau « Licence (Bac + 3) » ; votre profil indique « Baccalauréat »."


def dashboard(app, applicant):
    """``/me`` as ``applicant`` (a client of their own), as text."""
    client = app.test_client()
    factories.login(client, applicant)
    return page_text(client.get("/me"))


def test_each_applicant_is_told_their_own_outlook_beside_the_same_offerings(app):
    demanding = factories.offering(track=factories.track(min_education="licence"))
    full = factories.offering(seats=1)
    factories.application(offering_=full, status="accepted")
    low = factories.user(profile={"education_level": "baccalaureate"})
    high = factories.user(profile={"education_level": "licence"})
    unconfirmed = factories.user(email_confirmed_at=None)
    db.session.commit()

    for _ in range(2):  # in turns: what one reader is told never shows on another's page
        page = dashboard(app, high)
        assert f'href="/apply/{demanding.id}"' in page and LEVEL_REASON not in page
        assert f'href="/apply/{full.id}"' in page
        assert f'class="waitlist-note small mb-2" data-offering="{full.id}"' in page and WAITLIST in page

        page = dashboard(app, low)
        assert f'href="/apply/{demanding.id}"' not in page
        assert f'class="apply-reason small mb-0" data-offering="{demanding.id}"' in page
        assert "Vous ne pouvez pas postuler :" in page and LEVEL_REASON in page
        assert f'href="/apply/{full.id}"' in page

        page = dashboard(app, unconfirmed)
        assert "/apply/" not in page
        assert page.count("Confirmez d'abord votre adresse e-mail") == 2


def test_a_changed_offering_shows_on_the_next_page(app):
    offering = factories.offering(seats=3)
    applicant = factories.user()
    db.session.commit()
    page = dashboard(app, applicant)
    assert offering.track.title_fr in page and "3 places restantes" in page

    offering.track.title_fr = "Formation renommée"
    offering.seats = 1
    db.session.commit()
    page = dashboard(app, applicant)
    assert "Formation renommée" in page and "1 place restante" in page
    assert "3 places restantes" not in page and WAITLIST not in page

    factories.application(offering_=offering, status="accepted")
    db.session.commit()
    page = dashboard(app, applicant)
    assert "0 place restante" in page and WAITLIST in page and f'href="/apply/{offering.id}"' in page


def test_offerings_and_interests_are_in_the_language_of_the_page(app):
    # No English title: English falls back to the French one, so the offering's row reads
    # the same in both languages, and only the texts around it tell them apart.
    offering = factories.offering(track=factories.track(title_en=""))
    wished = factories.offering(status="closed")
    applicant = factories.user()
    db.session.add(Interest(applicant_id=applicant.id, track_id=offering.track_id, city_id=offering.city_id))
    db.session.add(Interest(applicant_id=applicant.id, track_id=wished.track_id, city_id=wished.city_id))
    db.session.commit()
    client = app.test_client()
    factories.login(client, applicant)
    for language, deadline, track_of, city_of in (
        ("fr", "Date limite :", lambda o: o.track.title_fr, lambda o: o.city.name_fr),
        ("ar", "آخر أجل:", lambda o: o.track.title_ar, lambda o: o.city.name_ar),
        ("en", "Deadline:", lambda o: o.track.title_en or o.track.title_fr, lambda o: o.city.name_en),
        ("fr", "Date limite :", lambda o: o.track.title_fr, lambda o: o.city.name_fr),
    ):
        client.post(f"/lang/{language}")
        page = page_text(client.get("/me"))
        open_list, interests = page.split('id="my-interests-title"')
        assert f"{track_of(offering)}</a> — {city_of(offering)}" in open_list, language
        assert f'<span class="small text-secondary d-block">{deadline} ' in open_list, language
        assert ("25 seats left" in open_list) is (language == "en"), language
        assert f"{track_of(wished)}</a>" not in open_list, language
        # Both wishes listed; the one whose offering is open comes with its apply link.
        assert f"{track_of(offering)}</a>\n        — {city_of(offering)}" in interests, language
        assert f"{track_of(wished)}</a>\n        — {city_of(wished)}" in interests, language
        assert interests.count(f'href="/apply/{offering.id}"') == 1, language
        assert f'href="/tracks/{wished.track.code}"' in interests, language
