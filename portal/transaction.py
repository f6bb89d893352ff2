"""One transaction per request, committed once at its end, and refusals shown in one way.

Operations flush and never commit; views do not commit either. ``init_app`` installs the
one commit: after the view, when the answer is not an error (status below 400), the
request's writes are committed together; an error answer (4xx, 5xx) rolls them back, so
a refused or failed request leaves nothing behind. Writes that must outlive an error
answer, or land before the response is sent, are made in their own transaction on
purpose, each with a comment saying why: the session rows (``auth.sessions._commit_alone``),
the audit of staff looking at personal data (``audit.personal_data_viewed``), the audit
of an export, written before its rows stream (``admin.downloads``); the throttle
counters are kept outside the database. CLI commands and the email worker run outside
requests and keep their own commits.

``attempt`` runs one operation in a savepoint: when it refuses with a ``UserError``, its
writes are undone and its message is put next to the form field it is about, or flashed.
Files an operation writes or deletes follow the request's outcome, not the savepoint's:
operations check their rules before touching files.
"""

from dataclasses import dataclass

from flask import flash
from wtforms import Field

from portal.extensions import db
from portal.usererror import UserError

# Answers from this status on are errors: the request's writes are rolled back.
FIRST_ERROR_STATUS = 400


@dataclass(frozen=True)
class Outcome:
    """What ``attempt`` gives back: the operation's ``value``, or the ``error`` that refused it."""

    value: object = None
    error: UserError | None = None

    @property
    def ok(self):
        """Whether the operation went through."""
        return self.error is None


def attempt(operation, *args, form=None, fields=None, others="flash", category=None, **kwargs):
    """Run ``operation(*args, **kwargs)`` in a savepoint; on a UserError undo it and show why.

    The refusal's message goes next to ``form``'s field when the error names a field the
    form has (``fields`` maps an error's field to the form's name for it, when they
    differ). Any other refusal is, as ``others`` says: "flash" flashed with ``category``
    (by default the error's), "form" listed above the form (its ``form_errors``), None
    left to the view, which reads ``outcome.error``. Returns an ``Outcome``. (The
    operation's own keyword arguments cannot be named like these four.)
    """
    try:
        with db.session.begin_nested():
            value = operation(*args, **kwargs)
    except UserError as error:
        if not show_in_form(error, form, fields):
            if others == "flash":
                flash(str(error.message), category or error.category)
            elif others == "form":
                form.form_errors.append(error.message)
        return Outcome(error=error)
    return Outcome(value=value)


def show_in_form(error, form, fields=None):
    """Put ``error``'s message next to its field in ``form``; False when the form has no such field."""
    field = None
    if form is not None and error.field:
        field = getattr(form, (fields or {}).get(error.field, error.field), None)
    if not isinstance(field, Field):
        return False
    field.errors = [*field.errors, error.message]
    return True


def _commit_or_roll_back(response):
    """The request's one commit: its writes land together, unless the answer is an error."""
    if response.status_code < FIRST_ERROR_STATUS:
        session = db.session()
        # The session ends with the request: expiring every object it loaded (what a
        # commit does by default, for code that goes on reading them) would be wasted work.
        session.expire_on_commit = False
        try:
            session.commit()
        finally:
            session.expire_on_commit = True
    else:
        db.session.rollback()
    return response


def init_app(app):
    """Install the end-of-request commit (call it before other after-request hooks)."""
    # Hooks run in the reverse order of their registration: installed first, the commit
    # runs last, once the other hooks (which may still read the user) are done.
    app.after_request(_commit_or_roll_back)
