"""ASVS 2.2.3: the owner of an account is told when its sign-in details change.

A password changed (profile or reset link), an email address replaced (told at the
previous address), an authenticator registered or reset by an administrator: each sends
one ``account_changed`` email, in the account's language, saying what changed and when,
with the link to take the account back. Nothing else sends it.
"""

import re

from portal.extensions import db
from tests import factories
from tests.helpers import account_notices, find_link, message_html, message_text
from tests.security import formdata

NEW_PASSWORD = "une toute nouvelle phrase"


def change_profile(client, user, **changes):
    data = formdata.profile(user, current_password=factories.PASSWORD, **changes)
    response = client.post("/me/profile", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_a_password_change_is_told_to_the_owner_over_smtp(app, client, applicant, deliver, smtp_server):
    change_profile(client, applicant, new_password=NEW_PASSWORD, new_password_confirm=NEW_PASSWORD)
    [(to, subject, text)] = account_notices()
    assert to == "amina@example.org" and subject == "Le mot de passe de votre compte a été modifié"
    # When, in the portal's time zone, and how to take the account back.
    assert re.search(
        r"modifié le \d{1,2} \w+\.? \d{4} à \d\d:\d\d\. Vos autres sessions ont été fermées\.", text
    )
    deliver()
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "amina@example.org"
    assert find_link(message, "/auth/forgot")
    assert NEW_PASSWORD not in message_text(message) and NEW_PASSWORD not in message_html(message)


def test_an_email_change_is_told_at_the_previous_address(app, client, applicant, deliver, smtp_server):
    change_profile(
        client,
        applicant,
        email="nouvelle@example.org",
        new_password=NEW_PASSWORD,
        new_password_confirm=NEW_PASSWORD,
    )
    sent = account_notices()
    # Both notices go where the account could be trusted before this form.
    assert [(to, subject) for to, subject, _ in sent] == [
        ("amina@example.org", "L'adresse email de votre compte a été modifiée"),
        ("amina@example.org", "Le mot de passe de votre compte a été modifié"),
    ]
    assert "envoyé à l'ancienne adresse" in sent[0][2]
    # The notice does not give the new address away.
    assert all("nouvelle@example.org" not in text for _, _, text in sent)
    deliver()
    smtp_server.wait_for(3)
    assert len(smtp_server.to("amina@example.org")) == 2
    assert [m["Subject"] for m in smtp_server.to("nouvelle@example.org")] == ["Confirmez votre adresse email"]


def test_changes_that_are_not_sign_in_details_send_no_notice(app, client, applicant):
    change_profile(client, applicant, association_name="Association Nouvelle", phone="07 00 00 00 00")
    # An address that already has an account is not taken: this account did not change.
    factories.user(email="owner@example.org")
    db.session.commit()
    change_profile(client, applicant, email="owner@example.org")
    assert account_notices() == []


def test_a_reset_by_link_is_told_in_the_accounts_language(app, client, deliver, smtp_server):
    factories.user(email="salma@example.org", locale="ar")
    db.session.commit()
    client.post("/auth/forgot", data={"email": "salma@example.org"})
    deliver()
    [message] = smtp_server.wait_for(1)
    smtp_server.clear()
    link = find_link(message, "/auth/reset/")
    done = client.post(link, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.status_code == 302
    [(to, subject, text)] = account_notices()
    assert to == "salma@example.org" and subject == "تم تغيير كلمة مرور حسابك"
    assert "/auth/forgot" in text
    deliver()
    [notice] = smtp_server.wait_for(1)
    assert notice["To"] == "salma@example.org" and 'lang="ar"' in message_html(notice)
