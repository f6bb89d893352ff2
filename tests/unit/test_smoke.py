"""The application starts and serves its public pages on an empty database."""


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_unknown_page_is_404_in_layout(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"<nav" in response.data
