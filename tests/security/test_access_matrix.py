"""Access matrix (issue 4 point 7, issue 6 point 7): every route × every kind of visitor.

The table in tests/security/access_matrix.py is the expected answer of every rule of the
URL map (static files aside), for each method it accepts, to six visitors: anonymous, the
applicant who owns the application in the URL (``owner``), another applicant, a reviewer
of the application's offering, a reviewer of another offering, and an administrator. GET
routes are fetched; POST routes get an empty POST (CSRF off, so what is checked is who
may reach the action — an empty form never changes anything that matters here).

Adding a route without adding its rows makes ``test_every_route_has_a_row`` fail.

Codes: 200, 302 (a redirect elsewhere than the login page), 400, 404, 422, and LOGIN —
a redirect to the login page.
"""

import pytest

from tests.security import world as w
from tests.security.access_matrix import LAST, LOGIN, MATRIX, build_path, outcome, url_parameters


def app_routes(app):
    """(method, rule) of every route of the application, static files aside."""
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_a_row(app):
    routes = app_routes(app)
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    assert not missing, f"routes without a row in the access matrix: {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_access_matrix(app):
    world = w.build_world()
    parameters = url_parameters(world)
    clients = w.clients_for(app, world)
    mismatches = []
    rows = sorted(MATRIX.items(), key=lambda item: (item[0] in LAST, item[0][1], item[0][0]))
    for (method, rule), expected in rows:
        path = build_path(rule, parameters)
        for role, want in zip(w.ROLES, expected, strict=True):
            got = outcome(clients[role].open(path, method=method))
            if got != want:
                mismatches.append(f"{method} {rule} as {role}: expected {want}, got {got}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("role", ["owner", "reviewer", "admin"])
def test_logout_in_the_matrix_really_ends_the_session(app, role):
    world = w.build_world()
    client = w.clients_for(app, world, roles=[role])[role]
    assert client.get("/me/profile").status_code == 200
    assert client.post("/auth/logout").status_code == 302
    assert outcome(client.get("/me/profile")) == LOGIN
