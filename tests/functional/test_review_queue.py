"""The reviewer queue: scope, filters, search, sort, pagination, counters, query count."""

import logging
import re
from datetime import datetime, timedelta

import pytest

from portal.extensions import db
from portal.vocabulary import ApplicationStatus
from tests import factories


def refs(response):
    """References of the queue rows, in order."""
    return re.findall(r'<tr data-reference="([^"]+)"', response.text)


def seats_row(response, offering):
    """(seats, held, left) shown for ``offering`` at the top of the queue."""
    row = re.search(rf'<tr data-offering="{offering.id}">(.*?)</tr>', response.text, re.S).group(1)
    cells = re.findall(r'<td class="text-end[^"]*"[^>]*>(\d+)</td>', row)
    return tuple(int(c) for c in cells[:3])


def status_count(response, status):
    """The count shown next to ``status`` at the top of the queue."""
    item = re.search(rf'data-status="{status}">.*?<span class="count">(\d+)</span>', response.text, re.S)
    return int(item.group(1))


@pytest.fixture
def two_offerings(app, client):
    """Offering A (reviewer logged in) and offering B (someone else's), with applications."""
    a = factories.offering(seats=3)
    b = factories.offering()
    reviewer = factories.reviewer(a)
    start = datetime(2026, 3, 1, 9, 0)
    mine = [
        factories.application(
            factories.user(profile={"first_name": first, "last_name": last, "cin": cin}),
            a,
            status=status,
            submitted_at=start + timedelta(hours=i),
            mean_score=score,
        )
        for i, (first, last, cin, status, score) in enumerate(
            [
                ("Youssef", "Alaoui", "BE111111", "submitted", None),
                ("Fatima", "Zahra", "BE222222", "under_review", 12.5),
                ("Karim", "Tazi", "BE333333", "under_review", 7.0),
                ("Nadia", "Idrissi", "BE444444", "accepted", 14.0),
                ("Omar", "Alaoui", "BE555555", "waitlisted", 9.0),
            ]
        )
    ]
    theirs = factories.application(
        factories.user(profile={"first_name": "Hamza", "last_name": "Alaoui", "cin": "ZZ999999"}), b
    )
    db.session.commit()
    factories.login(client, reviewer)
    return a, b, reviewer, mine, theirs


def test_queue_is_for_staff_only(app, client):
    offering = factories.offering()
    applicant = factories.user()
    factories.application(applicant, offering)
    db.session.commit()
    anonymous = client.get("/review")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    factories.login(client, applicant)
    assert client.get("/review").status_code == 404
    assert client.post("/review/decide", data={"decision": "rejected"}).status_code == 404
    assert client.post("/review/cin", data={"cin": "AB123456"}).status_code == 404


def test_reviewer_sees_only_the_applications_of_their_offerings_admin_sees_all(two_offerings, app):
    a, b, reviewer, mine, theirs = two_offerings
    client = app.test_client()
    factories.login(client, reviewer)
    response = client.get("/review")
    assert response.status_code == 200
    assert sorted(refs(response)) == sorted(m.reference for m in mine)
    assert theirs.reference not in response.text
    # Asking for someone else's offering does not widen the scope.
    assert sorted(refs(client.get(f"/review?offering={b.id}"))) == sorted(m.reference for m in mine)
    assert f'<option value="{b.id}"' not in response.text

    admin = factories.user(role="admin")
    db.session.commit()
    admin_client = app.test_client()
    factories.login(admin_client, admin)
    everything = admin_client.get("/review")
    assert sorted(refs(everything)) == sorted([m.reference for m in mine] + [theirs.reference])
    assert refs(admin_client.get(f"/review?offering={b.id}")) == [theirs.reference]


def test_counts_per_status_and_seats_per_offering(two_offerings, client):
    a, _, _, _, _ = two_offerings
    response = client.get("/review")
    assert seats_row(response, a) == (3, 1, 2)
    assert status_count(response, "under_review") == 2
    assert status_count(response, "submitted") == 1
    assert status_count(response, "accepted") == 1
    assert status_count(response, "rejected") == 0
    # Counters do not include the applications of offerings that are not the reviewer's.
    assert (
        sum(status_count(response, s) for s in ("submitted", "under_review", "accepted", "waitlisted")) == 5
    )


def test_filter_by_status_and_search_by_name_or_reference(two_offerings, client):
    _, _, _, mine, theirs = two_offerings
    assert sorted(refs(client.get("/review?status=under_review"))) == sorted(
        [mine[1].reference, mine[2].reference]
    )
    assert refs(client.get("/review?status=nonsense")) != []
    # Name search: case-insensitive, partial, every word must match; scope still applies.
    assert sorted(refs(client.get("/review?q=alaoui"))) == sorted([mine[0].reference, mine[4].reference])
    assert refs(client.get("/review?q=omar ALAOUI")) == [mine[4].reference]
    assert refs(client.get("/review?q=%25")) == []
    # Reference search, any case.
    assert refs(client.get(f"/review?q={mine[3].reference.lower()}")) == [mine[3].reference]
    assert refs(client.get(f"/review?q={theirs.reference}")) == []
    # The CIN is not searched through the URL.
    assert refs(client.get("/review?q=BE111111")) == []


def selected_options(response, name):
    """(value, label) of each option of the list ``name``, and the values marked selected."""
    body = re.search(rf'<select [^>]*name="{name}">(.*?)</select>', response.text, re.S).group(1)
    options = re.findall(r'<option( selected)? value="([^"]*)">([^<]*)</option>', body)
    return [(value, label) for _, value, label in options], [value for chosen, value, _ in options if chosen]


def test_filter_lists_offer_the_reviewers_choices_and_keep_what_was_chosen(two_offerings, client):
    a, b, _, _, _ = two_offerings
    offerings, chosen = selected_options(client.get("/review"), "offering")
    assert [value for value, _ in offerings] == ["", str(a.id)] and chosen == [""]
    assert "\u2066" + a.track.code + "\u2069" in offerings[1][1]
    statuses, chosen = selected_options(client.get("/review"), "status")
    assert statuses[0][0] == "" and len(statuses) == len(ApplicationStatus) + 1 and chosen == [""]
    assert selected_options(client.get("/review"), "sort")[1] == ["submitted_asc"]

    response = client.get(f"/review?offering={a.id}&status=under_review&sort=score_desc")
    assert selected_options(response, "offering")[1] == [str(a.id)]
    assert selected_options(response, "status")[1] == ["under_review"]
    assert selected_options(response, "sort")[1] == ["score_desc"]
    # The status links above the list keep the offering chosen.
    assert f'href="/review?status=accepted&amp;offering={a.id}"' in response.text
    # Values the queue ignores show as what it applies instead: every offering and status.
    response = client.get(f"/review?offering={b.id}&status=nonsense&sort=%3Cb%3E")
    assert selected_options(response, "offering")[1] == selected_options(response, "status")[1] == [""]
    assert selected_options(response, "sort")[1] == ["submitted_asc"]
    assert "<b>" not in response.text

    client.post("/lang/ar", data={})
    statuses, _ = selected_options(client.get("/review"), "status")
    sorts, _ = selected_options(client.get("/review"), "sort")
    assert statuses[0][1] == "جميع الحالات" and "Tous les statuts" not in client.get("/review").text
    assert all(re.search("[\u0600-\u06ff]", label) for _, label in sorts)


def test_cin_search_is_a_post_matching_exactly_after_upper_casing(two_offerings, client, caplog):
    _, _, _, mine, _ = two_offerings
    page = client.get("/review")
    assert re.search(r'<form method="post" action="/review/cin"', page.text)
    with caplog.at_level(logging.DEBUG):
        found = client.post("/review/cin", data={"cin": " be333333 "})
    assert found.status_code == 200
    assert refs(found) == [mine[2].reference]
    assert "333333" not in caplog.text
    assert refs(client.post("/review/cin", data={"cin": "BE3333"})) == []  # no partial match
    assert refs(client.post("/review/cin", data={"cin": "ZZ999999"})) == []  # someone else's offering
    invalid = client.post("/review/cin", data={"cin": "<script>"})
    assert invalid.status_code == 422
    assert "Format de CIN invalide" in invalid.text


def test_sort_by_submission_date_and_mean_score(two_offerings, client):
    _, _, _, mine, _ = two_offerings
    by_date = [m.reference for m in mine]
    assert refs(client.get("/review")) == by_date
    assert refs(client.get("/review?sort=submitted_desc")) == by_date[::-1]
    # Scores 14, 12.5, 9, 7; unscored last in both directions.
    assert refs(client.get("/review?sort=score_desc")) == [mine[i].reference for i in (3, 1, 4, 2, 0)]
    assert refs(client.get("/review?sort=score_asc")) == [mine[i].reference for i in (2, 4, 1, 3, 0)]
    assert refs(client.get("/review?sort=drop table")) == by_date


def test_pagination_follows_page_size(two_offerings, client, app):
    _, _, _, mine, _ = two_offerings
    app.config["PAGE_SIZE"] = 2
    by_date = [m.reference for m in mine]
    first = client.get("/review")
    assert refs(first) == by_date[:2]
    assert "Page 1 sur 3" in first.text
    assert refs(client.get("/review?page=2")) == by_date[2:4]
    assert refs(client.get("/review?page=3")) == by_date[4:]
    assert refs(client.get("/review?page=99")) == []
    assert client.get("/review?page=-1").status_code == 200
    assert client.get("/review?page=abc").status_code == 200
    # Filters survive in the page links.
    filtered = client.get("/review?sort=submitted_desc")
    assert "sort=submitted_desc" in re.search(r'href="([^"]*page=2[^"]*)"', filtered.text).group(1)


def test_every_decidable_row_has_a_checkbox(two_offerings, client):
    _, _, _, mine, _ = two_offerings
    page = client.get("/review").text
    boxes = re.findall(r'name="references" value="([^"]+)"', page)
    # Submitted, under review (2) and wait-listed can be decided; accepted cannot.
    assert sorted(boxes) == sorted(m.reference for m in mine if m.status != "accepted")


def _make(offering, n):
    for _ in range(n):
        factories.application(offering_=offering, mean_score=5.0)
    db.session.commit()


def test_queue_query_count_does_not_grow_with_the_data(app, client, query_counter):
    offerings = [factories.offering() for _ in range(2)]
    reviewer = factories.reviewer(*offerings)
    for offering in offerings:
        _make(offering, 2)
    factories.login(client, reviewer)
    client.get("/review")  # warm up (session, caches)
    with query_counter() as small:
        assert client.get("/review?sort=score_desc").status_code == 200
    more = [factories.offering() for _ in range(3)]
    reviewer.reviewed_offerings.extend(more)
    for offering in offerings + more:
        _make(offering, 8)
    with query_counter() as big:
        response = client.get("/review?sort=score_desc")
    assert len(refs(response)) == 44
    assert big.count == small.count, big.statements
    assert big.count <= 10


def test_the_cin_search_is_optional_and_sent_empty_shows_the_whole_queue(two_offerings, client):
    page = client.get("/review").text
    form = page.split('id="cin-search"')[1].split("</form>")[0]
    assert "(facultatif)" in form
    assert 'aria-hidden="true">*<' not in form and " required" not in form
    # Sent empty, it clears the search: back to the queue, nothing refused.
    response = client.post("/review/cin", data={"cin": "  "})
    assert response.status_code == 302 and response.location == "/review"
    # Its help text sits under the row, tied to the field, so the field lines up with the button.
    assert 'aria-describedby="cin-help"' in form and 'id="cin-help"' in form.split("</div>\n    </div>")[-1]


def test_codes_references_and_years_never_break_and_rows_stack_on_phones(two_offerings, client):
    page = client.get("/review").text
    for table in ("queue", "seats"):
        html = (
            page.split(f'id="{table}"')[0].rsplit("<table", 1)[1]
            + page.split(f'id="{table}"')[1].split("</table>")[0]
        )
        assert "table-cards" in html, table
        # Every data cell says what it is when the rows are shown as cards.
        for cell in re.findall(r"<td[^>]*>", html):
            assert "data-label=" in cell or "select-cell" in cell, cell
    # References, track codes and academic years are each one unbreakable word.
    assert not re.search(r"(?<!text-nowrap\">)APP-\d{4}-\d{6}</bdi>", page)
    assert re.findall(r'<bdi class="text-nowrap">APP-\d{4}-\d{6}</bdi>', page)
    assert not re.search(r"<bdi>[A-Z0-9]+-[A-Z0-9-]+</bdi>", page)
    for year in re.findall(r"\b\d{4}-\d{4}\b", page.split('id="seats"')[1].split("</table>")[0]):
        assert f'<span class="text-nowrap">{year}</span>' in page
