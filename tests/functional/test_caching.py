"""The cache of the visitors' public pages, and the dashboard that has none.

Visitor pages are served from the cache until the open offerings change (seats held,
an offering opened or closed); logged-in users and pending messages bypass it. The
administrators' dashboard reads counts kept by the writes, so nothing of it is cached.
"""

import os
import re

from portal.extensions import db
from tests import factories
from tests.helpers import admin_client, another_worker


def seats_left(html):
    """The "seats left / seats" of every offering card of a catalogue page."""
    return re.findall(r"Places restantes</dt><dd[^>]*>(\d+) / (\d+)<", html)


def test_visitor_pages_are_rendered_once_then_served_from_the_cache(catalogue, client, query_counter):
    first = client.get("/tracks").get_data(as_text=True)
    with query_counter() as rendered_again:
        second = client.get("/tracks").get_data(as_text=True)
    assert second == first
    # Only the state of the open offerings is read: no track, city or offering query.
    queries = [s for s in rendered_again.statements if s.strip().upper() != "BEGIN"]
    assert len(queries) == 1, queries
    assert "FROM offering" in queries[0] and "track" not in queries[0]


def test_a_seat_taken_shows_at_once(catalogue, client):
    before = seats_left(client.get("/tracks").get_data(as_text=True))
    assert ("25", "25") in before
    offering = factories.offering(track=factories.track(), seats=3)
    db.session.commit()
    assert ("3", "3") in seats_left(client.get("/tracks").get_data(as_text=True))
    factories.application(offering_=offering, status="accepted")
    db.session.commit()
    after = seats_left(client.get("/tracks").get_data(as_text=True))
    assert ("2", "3") in after and ("3", "3") not in after


def test_an_offering_closed_disappears_at_once(catalogue, client):
    offering = factories.offering(track=factories.track(title_fr="Formation éphémère"))
    db.session.commit()
    assert "Formation éphémère" in client.get("/").get_data(as_text=True)
    offering.status = "closed"
    db.session.commit()
    assert "Formation éphémère" not in client.get("/").get_data(as_text=True)


def test_each_language_and_address_has_its_own_page(catalogue, client):
    french = client.get("/tracks").get_data(as_text=True)
    client.post("/lang/ar")
    arabic = client.get("/tracks").get_data(as_text=True)
    assert 'lang="fr"' in french and 'lang="ar"' in arabic and 'dir="rtl"' in arabic
    digital = client.get("/tracks?domain=digital").get_data(as_text=True)
    assert digital != arabic and "GEST-AF" not in digital.split('id="main"')[1]


def test_logged_in_users_and_pending_messages_are_never_served_a_cached_page(catalogue, app, client):
    anonymous = client.get("/").get_data(as_text=True)
    user = factories.user()
    db.session.commit()
    factories.login(client, user)
    mine = client.get("/").get_data(as_text=True)
    assert mine != anonymous and "Se déconnecter" in mine and "Se déconnecter" not in anonymous
    client.post("/auth/logout")
    # The logout message is shown on the next page, not swallowed by a cached copy.
    after_logout = client.get("/").get_data(as_text=True)
    assert 'class="flash-messages"' in after_logout
    assert 'class="flash-messages"' not in client.get("/").get_data(as_text=True)


def test_the_cache_can_be_turned_off(catalogue, app, client, query_counter):
    app.config["VISITOR_PAGE_CACHE_SECONDS"] = 0
    client.get("/tracks")
    with query_counter() as counter:
        client.get("/tracks")
    assert counter.count > 1


def test_the_dashboard_is_live(app, query_counter):
    """Nothing of /admin is cached (issue 16): an application and an interest show at once."""
    admin, _ = admin_client(app)
    offering = factories.offering()
    factories.application(offering_=offering)
    db.session.commit()
    with query_counter() as first:
        html = admin.get("/admin").get_data(as_text=True)
    assert re.search(r'id="total-applications">1<', html)
    factories.application(offering_=offering)
    db.session.commit()
    with query_counter() as second:
        html = admin.get("/admin").get_data(as_text=True)
    # The same statements each time (nothing read from a cache), the new application counted.
    assert second.count == first.count
    assert re.search(r'id="total-applications">2<', html)


def test_workers_share_the_cache_through_redis(app, tmp_path, monkeypatch):
    """With RedisCache, what one worker rendered is served by another (several hosts)."""
    import redis

    url = f"redis://127.0.0.1:6379/{int(os.environ.get('PORTAL_TEST_REDIS_DB', '7')) + 1}"
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))

    def worker(name):
        return another_worker(app, tmp_path, name, CACHE_TYPE="RedisCache", CACHE_REDIS_URL=url)

    offering = factories.offering()
    db.session.commit()
    first, second = worker("one"), worker("two")
    try:
        assert "Formation" in first.test_client().get("/tracks").get_data(as_text=True)
        # A new title leaves the open offerings' state as it was: the second worker serves
        # the page the first one rendered, from Redis, with the old title.
        offering.track.title_fr = "Titre renouvelé"
        db.session.commit()
        assert "Titre renouvelé" not in second.test_client().get("/tracks").get_data(as_text=True)
        keys = [key.decode() for key in connection.keys("*")]
        assert keys and all(key.startswith("portal:") for key in keys)
    finally:
        for other in (first, second):
            with other.app_context():
                db.engine.dispose()
        connection.flushdb()
        connection.close()
