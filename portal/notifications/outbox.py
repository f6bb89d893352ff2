"""Writing emails into the outbox, rendered in the recipient's language.

Each message is a pair of templates, ``templates/email/<name>.txt`` and ``.html``; the
subject is the first line of the text template, after ``Subject:``. Rendering happens
at enqueue time, inside the transaction of the cause, so the worker needs no request.

Messages whose link carries a secret (address confirmation, password reset, staff
invitation) are the exception: ``enqueue_at_send`` writes a row naming the message and
the address only, and the worker asks the function registered with ``prepared_at_send``
which account, if any, the address belongs to when it sends the message. So the body
with its link is never stored, and a request writes the same row whether the address
has an account or not (no difference in time or in SQL that would tell).
"""

import re

from flask import current_app

from portal.extensions import db
from portal.i18n import force_locale
from portal.notifications.models import OutboxEmail

_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


def single_line(value):
    """Collapse any line break so user data can never start a new email header."""
    return _LINE_BREAKS.sub(" ", value or "").strip()


def absolute_url(endpoint, **values):
    """An absolute link built on BASE_URL, valid outside a request (worker, CLI)."""
    # url_for() needs a request or SERVER_NAME; the URL map alone builds the path anywhere.
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind("localhost")
    path = adapter.build(endpoint, values, force_external=False)
    return current_app.config["BASE_URL"].rstrip("/") + path


def _text_templates(template):
    """The compiled subject line and body of ``email/<template>.txt``, compiled apart.

    Rendering the file whole and cutting at the first line break would let a value with a
    line break (a name, a title) end the subject early and push the rest into the body.
    Compiled once, and again only when the file changes while templates reload (as Jinja
    does for the templates it loads).
    """
    env = current_app.jinja_env
    name = f"email/{template}.txt"
    key = (id(env), name)
    cached = _TEXT_CACHE.get(key)
    if cached and (not env.auto_reload or cached[0] is None or cached[0]()):
        return cached[1], cached[2]
    source, _, uptodate = env.loader.get_source(env, name)
    first, _, rest = source.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"{name} must start with 'Subject:'")

    def compile_part(part):
        # Plain text: no HTML escaping (Jinja would autoescape a template without a name).
        return env.from_string("{% autoescape false %}" + part + "{% endautoescape %}")

    # The body keeps its leading line break so that error line numbers match the file.
    subject, body = compile_part(first[len("Subject:") :]), compile_part("\n" + rest)
    _TEXT_CACHE[key] = (uptodate, subject, body)
    return subject, body


_TEXT_CACHE = {}


def render_email(template, locale, **context):
    """Render (subject, text, html) of ``template`` in ``locale``."""
    with force_locale(locale):
        context.setdefault("locale", locale)
        context["url"] = absolute_url
        subject_template, body_template = _text_templates(template)
        # One context for the three parts: the context processors run once.
        current_app.update_template_context(context)
        subject = subject_template.render(context)
        text = body_template.render(context)
        html = current_app.jinja_env.get_template(f"email/{template}.html").render(context)
    return single_line(subject), text.lstrip("\n"), html


def enqueue(to_address, template, locale, user_id=None, **context):
    """Add one email to the outbox (flushed with the caller's transaction)."""
    if template in _PREPARERS:
        raise ValueError(f"{template} carries a secret link: queue it with enqueue_at_send")
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
    return email


def enqueue_to_user(user, template, **context):
    """Add an email to ``user`` in their preferred language."""
    context.setdefault("user", user)
    return enqueue(user.email, template, user.locale or "fr", user_id=user.id, **context)


# Template name -> function(address) returning (user, context) or None; see prepared_at_send.
_PREPARERS = {}


def prepared_at_send(template):
    """Register the function that prepares ``template`` messages when the worker sends them.

    The function receives the row's address and returns ``(user, context)``: the account to
    write to and what the templates need besides ``user``, links included. It returns None
    when no account should receive the message (none has the address any more, or it is
    not in the state the message is about); the row is then dropped.
    """

    def register(function):
        _PREPARERS[template] = function
        return function

    return register


def preparer(template):
    """The function registered for ``template`` by ``prepared_at_send``, or None."""
    return _PREPARERS.get(template)


def enqueue_at_send(template, to_address, user=None):
    """Queue a ``template`` message for ``to_address``, rendered by the worker when sent; flush.

    The row has the same shape whoever the address belongs to: ``user`` (when the caller
    knows the account already) only sets its language and owner.
    """
    if template not in _PREPARERS:
        raise ValueError(f"no preparer registered for {template}")
    email = OutboxEmail(
        to_address=single_line(to_address),
        template=template,
        locale=(user.locale if user is not None else None) or current_app.config["BABEL_DEFAULT_LOCALE"],
        subject="",
        body_text="",
        body_html="",
        user_id=None if user is None else user.id,
        render_at_send=True,
    )
    db.session.add(email)
    db.session.flush()
    return email
