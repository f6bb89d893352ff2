"""Writing emails into the outbox, rendered in the recipient's language.

Each message is a pair of templates, ``templates/email/<name>.txt`` and ``.html``; the
subject is the first line of the text template, after ``Subject:``. Rendering happens
at enqueue time, inside the transaction of the cause, so the worker needs no request.
"""

import re

from flask import current_app, render_template
from flask_babel import force_locale

from portal.extensions import db
from portal.notifications.models import OutboxEmail

_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


def single_line(value):
    """Collapse any line break so user data can never start a new email header."""
    return _LINE_BREAKS.sub(" ", value or "").strip()


def absolute_url(endpoint, **values):
    """An absolute link built on BASE_URL, valid outside a request (worker, CLI)."""
    from flask import url_for

    base = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for(endpoint, _external=False, **values)


def render_email(template, locale, **context):
    """Render (subject, text, html) of ``template`` in ``locale``."""
    with force_locale(locale):
        context.setdefault("locale", locale)
        context["url"] = absolute_url
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"email/{template}.txt must start with 'Subject:'")
    return single_line(first[len("Subject:") :]), body.lstrip("\n"), html


def enqueue(to_address, template, locale, user_id=None, **context):
    """Add one email to the outbox (flushed with the caller's transaction)."""
    subject, text, html = render_email(template, locale, **context)
    email = OutboxEmail(
        to_address=single_line(to_address),
        template=template,
        locale=locale,
        subject=subject,
        body_text=text,
        body_html=html,
        user_id=user_id,
    )
    db.session.add(email)
    db.session.flush()
    return email


def enqueue_to_user(user, template, **context):
    """Add an email to ``user`` in their preferred language."""
    context.setdefault("user", user)
    return enqueue(user.email, template, user.locale or "fr", user_id=user.id, **context)
