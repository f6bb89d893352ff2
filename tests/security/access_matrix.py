"""The access matrix (issue 4 point 7, issue 6 point 7): every route × every kind of visitor.

The table is the expected answer of every rule of the URL map (static files aside), for
each method it accepts, to six visitors: anonymous, the applicant who owns the
application in the URL (``owner``), another applicant, a reviewer of the application's
offering, a reviewer of another offering, and an administrator. GET routes are fetched;
POST routes get an empty POST (CSRF off, so what is checked is who may reach the action
— an empty form never changes anything that matters here).

tests/security/test_access_matrix.py checks it against the application; the CSRF, input
bounds and HTML validity tests walk the same routes.

Codes: 200, 302 (a redirect elsewhere than the login page), 400, 404, 422, and LOGIN —
a redirect to the login page.
"""

import re

LOGIN = "LOGIN"

# (method, rule): anonymous, owner, other applicant, reviewer, other reviewer, admin
MATRIX = {
    # Public pages.
    ("GET", "/"): (200, 200, 200, 200, 200, 200),
    ("GET", "/tracks"): (200, 200, 200, 200, 200, 200),
    ("GET", "/tracks/<code>"): (200, 200, 200, 200, 200, 200),
    ("GET", "/privacy"): (200, 200, 200, 200, 200, 200),
    ("GET", "/programme"): (200, 200, 200, 200, 200, 200),
    ("GET", "/healthz"): (200, 200, 200, 200, 200, 200),
    # Certificate verification: anyone (the number is the proof; no personal data but the name).
    ("GET", "/verify"): (200, 200, 200, 200, 200, 200),
    ("GET", "/verify/<number>"): (200, 200, 200, 200, 200, 200),
    ("POST", "/lang/<code>"): (302, 302, 302, 302, 302, 302),
    # The register's search (registration is anonymous): public, throttled per address.
    ("GET", "/associations/search"): (200, 200, 200, 200, 200, 200),
    # Accounts: logged-in visitors are sent to their own area.
    ("GET", "/auth/register"): (200, 302, 302, 302, 302, 302),
    ("POST", "/auth/register"): (200, 302, 302, 302, 302, 302),
    ("GET", "/auth/check-email"): (200, 200, 200, 200, 200, 200),
    ("GET", "/auth/confirm/<token>"): (400, 400, 400, 400, 400, 400),
    ("POST", "/auth/confirm/<token>"): (400, 400, 400, 400, 400, 400),
    ("POST", "/auth/confirm/resend"): (400, 302, 302, 302, 302, 302),
    ("GET", "/auth/login"): (200, 302, 302, 302, 302, 302),
    ("POST", "/auth/login"): (200, 200, 200, 200, 200, 200),
    ("POST", "/auth/logout"): (302, 302, 302, 302, 302, 302),
    ("GET", "/auth/forgot"): (200, 200, 200, 200, 200, 200),
    ("POST", "/auth/forgot"): (200, 200, 200, 200, 200, 200),
    ("GET", "/auth/reset/<token>"): (400, 400, 400, 400, 400, 400),
    ("POST", "/auth/reset/<token>"): (400, 400, 400, 400, 400, 400),
    # Second factor: staff without an authenticator are sent to set one up; applicants home.
    ("GET", "/auth/two-factor"): (LOGIN, 302, 302, 302, 302, 302),
    ("POST", "/auth/two-factor"): (LOGIN, 302, 302, 302, 302, 302),
    ("GET", "/auth/two-factor/setup"): (LOGIN, 404, 404, 200, 200, 200),
    ("POST", "/auth/two-factor/setup"): (LOGIN, 404, 404, 422, 422, 422),
    ("GET", "/me/profile"): (LOGIN, 200, 200, 200, 200, 200),
    # The idle warning's "stay logged in": JSON, 401 without a session.
    ("GET", "/auth/keepalive"): (401, 200, 200, 200, 200, 200),
    # An empty POST is an invalid applicant profile (re-rendered); the staff form keeps its values.
    ("POST", "/me/profile"): (LOGIN, 200, 200, 302, 302, 302),
    # Everyone logged in sees their own devices; an empty form is refused next to the field.
    ("GET", "/me/sessions"): (LOGIN, 200, 200, 200, 200, 200),
    ("POST", "/me/sessions"): (LOGIN, 422, 422, 422, 422, 422),
    # Applicant area: staff are sent to their queue or dashboard.
    ("GET", "/me"): (LOGIN, 200, 200, 302, 302, 302),
    ("GET", "/apply/<int:offering_id>"): (LOGIN, 302, 200, 404, 404, 404),
    ("POST", "/apply/<int:offering_id>"): (LOGIN, 302, 422, 404, 404, 404),
    ("GET", "/me/applications/<reference>"): (LOGIN, 200, 404, 404, 404, 404),
    ("POST", "/me/applications/<reference>/withdraw"): (LOGIN, 302, 404, 404, 404, 404),
    ("POST", "/me/applications/<reference>/confirm"): (LOGIN, 302, 404, 404, 404, 404),
    # The owner, the reviewers of the offering and administrators (staff views are audited).
    ("GET", "/me/applications/<reference>/documents/<int:document_id>"): (LOGIN, 200, 404, 200, 404, 200),
    ("POST", "/me/interests"): (LOGIN, 302, 302, 404, 404, 404),
    ("POST", "/me/interests/<int:interest_id>/delete"): (LOGIN, 302, 404, 404, 404, 404),
    # A referent's page: the other applicant is the referent of the owner's association. An
    # empty decision is refused with a message (back to the page).
    ("GET", "/me/association"): (LOGIN, 404, 200, 404, 404, 404),
    ("POST", "/me/association/members/<int:membership_id>"): (LOGIN, 404, 302, 404, 404, 404),
    ("GET", "/me/data.json"): (LOGIN, 200, 200, 404, 404, 404),
    # The participant's own certificate only (staff see it at /verify, like anyone).
    ("GET", "/me/applications/<reference>/certificate.pdf"): (LOGIN, 200, 404, 404, 404, 404),
    ("GET", "/me/delete"): (LOGIN, 200, 200, 404, 404, 404),
    ("POST", "/me/delete"): (LOGIN, 422, 422, 404, 404, 404),
    # Review area: reviewers of the offering and administrators.
    ("GET", "/review"): (LOGIN, 404, 404, 200, 200, 200),
    # An empty CIN search clears the search: back to the queue.
    ("POST", "/review/cin"): (LOGIN, 404, 404, 302, 302, 302),
    ("POST", "/review/decide"): (LOGIN, 404, 404, 302, 302, 302),
    ("GET", "/review/applications/<reference>"): (LOGIN, 404, 404, 200, 404, 200),
    ("POST", "/review/applications/<reference>"): (LOGIN, 404, 404, 422, 404, 422),
    ("POST", "/review/applications/<reference>/decide"): (LOGIN, 404, 404, 302, 404, 302),
    ("GET", "/review/applications/<reference>/documents/<int:document_id>"): (LOGIN, 404, 404, 200, 404, 200),
    # An offering's cohort: its reviewers and administrators; an empty POST is refused (back to the page).
    ("GET", "/review/offerings/<int:offering_id>/cohort"): (LOGIN, 404, 404, 200, 404, 200),
    ("POST", "/review/offerings/<int:offering_id>/cohort"): (LOGIN, 404, 404, 302, 404, 302),
    # Administration: administrators only.
    ("GET", "/admin"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/audit"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/associations"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/associations/<int:association_id>/edit"): (LOGIN, 404, 404, 404, 404, 200),
    ("POST", "/admin/associations/<int:association_id>/edit"): (LOGIN, 404, 404, 404, 404, 302),
    # Verifying twice is refused with a message: a redirect either way.
    ("POST", "/admin/associations/<int:association_id>/verify"): (LOGIN, 404, 404, 404, 404, 302),
    # Without the entry to keep, the search for it (GET) or back to it (POST).
    # Naming without an address, or removing an account that is not a referent: refused, back.
    ("POST", "/admin/associations/<int:association_id>/referents"): (LOGIN, 404, 404, 404, 404, 302),
    ("POST", "/admin/associations/<int:association_id>/referents/<int:user_id>/remove"): (
        LOGIN,
        404,
        404,
        404,
        404,
        302,
    ),
    ("GET", "/admin/associations/<int:association_id>/merge"): (LOGIN, 404, 404, 404, 404, 200),
    ("POST", "/admin/associations/<int:association_id>/merge"): (LOGIN, 404, 404, 404, 404, 302),
    ("GET", "/admin/certificates"): (LOGIN, 404, 404, 404, 404, 200),
    # The confirmation page; an empty POST lacks the reason (refused next to the field).
    ("GET", "/admin/certificates/<int:certificate_id>/revoke"): (LOGIN, 404, 404, 404, 404, 200),
    ("POST", "/admin/certificates/<int:certificate_id>/revoke"): (LOGIN, 404, 404, 404, 404, 422),
    ("GET", "/admin/cities"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/cities/new"): (LOGIN, 404, 404, 404, 404, 200),
    ("POST", "/admin/cities/new"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/cities/<int:city_id>/edit"): (LOGIN, 404, 404, 404, 404, 200),
    # Without form data, the edit forms keep the object's values: saved unchanged.
    ("POST", "/admin/cities/<int:city_id>/edit"): (LOGIN, 404, 404, 404, 404, 302),
    ("GET", "/admin/export.csv"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/export.xlsx"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/offerings"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/offerings/new"): (LOGIN, 404, 404, 404, 404, 200),
    ("POST", "/admin/offerings/new"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/offerings/<int:offering_id>"): (LOGIN, 404, 404, 404, 404, 200),
    ("POST", "/admin/offerings/<int:offering_id>"): (LOGIN, 404, 404, 404, 404, 200),
    ("POST", "/admin/offerings/<int:offering_id>/close"): (LOGIN, 404, 404, 404, 404, 302),
    ("POST", "/admin/offerings/<int:offering_id>/reopen"): (LOGIN, 404, 404, 404, 404, 302),
    ("GET", "/admin/outbox"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/reach"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/reach.csv"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/reach.xlsx"): (LOGIN, 404, 404, 404, 404, 200),
    ("POST", "/admin/outbox/<int:email_id>/retry"): (LOGIN, 404, 404, 404, 404, 302),
    ("GET", "/admin/tracks"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/tracks/new"): (LOGIN, 404, 404, 404, 404, 200),
    ("POST", "/admin/tracks/new"): (LOGIN, 404, 404, 404, 404, 200),
    ("GET", "/admin/tracks/<int:track_id>/edit"): (LOGIN, 404, 404, 404, 404, 200),
    ("POST", "/admin/tracks/<int:track_id>/edit"): (LOGIN, 404, 404, 404, 404, 302),
    ("GET", "/admin/users"): (LOGIN, 404, 404, 404, 404, 200),
    ("POST", "/admin/users/invite"): (LOGIN, 404, 404, 404, 404, 422),
    ("GET", "/admin/users/<int:user_id>/role"): (LOGIN, 404, 404, 404, 404, 302),
    ("POST", "/admin/users/<int:user_id>/role"): (LOGIN, 404, 404, 404, 404, 302),
    ("POST", "/admin/users/<int:user_id>/deactivate"): (LOGIN, 404, 404, 404, 404, 302),
    ("POST", "/admin/users/<int:user_id>/reset-two-factor"): (LOGIN, 404, 404, 404, 404, 302),
    ("POST", "/admin/users/<int:user_id>/reactivate"): (LOGIN, 404, 404, 404, 404, 302),
    # The invitation link is the proof: public, and a bad token is refused whoever asks.
    ("GET", "/admin/invite/<token>"): (400, 400, 400, 400, 400, 400),
    ("POST", "/admin/invite/<token>"): (400, 400, 400, 400, 400, 400),
}
# Run last: it ends the session of the client that calls it.
LAST = {("POST", "/auth/logout")}


def url_parameters(world):
    """Values of the URL parameters, per rule ending (spares for actions that change things)."""
    base = {
        "offering_id": world.offering.id,
        "city_id": world.city.id,
        "association_id": world.association.id,
        "membership_id": world.membership.id,
        "track_id": world.track.id,
        "code": world.track.code,
        "user_id": world.target_user.id,
        "email_id": world.email.id,
        "interest_id": world.interest.id,
        "reference": world.application.reference,
        "document_id": world.document.id,
        "token": "not-a-valid-token",
        "number": world.certificate.number,
        "certificate_id": world.spare_certificate.id,
    }
    return {
        "default": base,
        # Closing and reopening use a spare offering; withdrawing, a spare application.
        "/close": {**base, "offering_id": world.spare_offering.id},
        "/reopen": {**base, "offering_id": world.spare_offering.id},
        "/withdraw": {**base, "reference": world.withdraw_application.reference},
        "/lang/<code>": {**base, "code": "fr"},
        "/certificate.pdf": {**base, "reference": world.completed_application.reference},
    }


def build_path(rule, parameters):
    """The rule with its parameters filled in."""
    values = next((v for end, v in parameters.items() if end != "default" and rule.endswith(end)), None)
    values = values or parameters["default"]
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)


def outcome(response):
    """The table's code for a response."""
    if response.status_code == 302 and "/auth/login" in response.headers["Location"]:
        return LOGIN
    return response.status_code
