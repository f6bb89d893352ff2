"""Error pages rendered inside the layout, in the visitor's language."""

import logging

from flask import current_app, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from portal.auth.totp_secrets import UnreadableSecret
from portal.extensions import db
from portal.i18n import gettext as _
from portal.usererror import UserError

log = logging.getLogger(__name__)

MESSAGES = {
    400: lambda: (_("Requête invalide"), _("La demande n'a pas pu être comprise. Veuillez réessayer.")),
    403: lambda: (_("Accès refusé"), _("Vous n'avez pas accès à cette page.")),
    404: lambda: (_("Page introuvable"), _("La page demandée n'existe pas ou n'est plus disponible.")),
    405: lambda: (_("Action non permise"), _("Cette action n'est pas possible de cette façon.")),
    # The text is the refusal's own message (see the UserError handler below).
    422: lambda: (_("Action impossible"), _("Cette action n'est pas possible pour le moment.")),
    413: lambda: _too_large(),
    429: lambda: (
        _("Trop de tentatives"),
        _("Trop de tentatives en peu de temps. Veuillez patienter quelques minutes puis réessayer."),
    ),
    503: lambda: (
        _("Service momentanément indisponible"),
        _(
            "Cette action est momentanément indisponible. L'équipe technique a été prévenue ; veuillez réessayer plus tard."
        ),
    ),
    500: lambda: (
        _("Erreur du serveur"),
        _("Une erreur inattendue s'est produite. Elle a été enregistrée ; veuillez réessayer plus tard."),
    ),
}


def _too_large():
    """The 413 messages: about files on the upload form, about the texts on any other form."""
    from portal.safety import accepts_files
    from portal.templating import format_file_size

    if accepts_files(request):
        return (
            _("Fichier trop volumineux"),
            _(
                "L'envoi dépasse la taille autorisée : chaque fichier doit faire au plus %(size)s. Réduisez la taille du fichier (par exemple en le numérisant en plus basse résolution) puis réessayez.",
                size=format_file_size(current_app.config["MAX_UPLOAD_BYTES"]),
            ),
        )
    return (
        _("Envoi trop volumineux"),
        _(
            "Le formulaire envoyé dépasse la taille autorisée. Revenez à la page précédente, raccourcissez les textes saisis puis réessayez."
        ),
    )


def render_error(code, title=None, text=None):
    """Render the error page for ``code`` with its translated title and explanation.

    It never fails: should the page itself break (a template error, a request the
    layout cannot handle), a plain page with the same status is answered instead.
    """
    try:
        default_title, default_text = MESSAGES.get(code, MESSAGES[500])()
        title, text = title or default_title, text or default_text
        return render_template("errors/error.html", code=code, title=title, text=text), code
    except Exception:
        # Only the status: the failure may come from what the client sent.
        log.exception("error page %s could not be rendered; plain page sent", code)
        return _plain_page(code, title, text), code


def _plain_page(code, title=None, text=None):
    """A self-contained error page (no layout, no URL building), translated when possible."""
    language = "fr"
    try:
        from portal.i18n import current_language

        language = current_language()
        if not (title and text):
            default_title, default_text = MESSAGES.get(code, MESSAGES[500])()
            title, text = title or default_title, text or default_text
    except Exception:  # noqa: BLE001 - the last resort must not fail
        title = title or "Erreur"
        text = text or ""
    direction = "rtl" if language == "ar" else "ltr"
    response = make_response(
        f'<!DOCTYPE html>\n<html lang="{language}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body><main><p>{code}</p><h1>{escape(title)}</h1>"
        f'<p>{escape(text)}</p><p><a href="/">{escape(_home_label())}</a></p></main></body></html>',
        code,
    )
    response.mimetype = "text/html"
    return response


def _home_label():
    """The translated "go home" label, in French when translations are unavailable."""
    try:
        return _("Aller à l'accueil")
    except Exception:  # noqa: BLE001 - the last resort must not fail
        return "Aller à l'accueil"


def too_many_attempts(retry_after):
    """The translated 429 page, telling the client when to try again."""
    response = make_response(render_error(429))
    response.headers["Retry-After"] = str(retry_after)
    return response


def init_app(app):
    """Install the handlers."""

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        # Missing, foreign or expired form token: usually a page left open too long.
        db.session.rollback()
        return render_error(
            400,
            _("Formulaire expiré"),
            _(
                "Ce formulaire a expiré ou ne provient pas de ce site. Revenez à la page précédente, rechargez-la puis envoyez le formulaire à nouveau."
            ),
        )

    @app.errorhandler(UserError)
    def _refused(error):
        # A refusal no view turned into a message: a page that says why, not a 500.
        db.session.rollback()
        return render_error(422, text=str(error.message))

    @app.errorhandler(HTTPException)
    def _http_error(error):
        db.session.rollback()
        if error.code in MESSAGES:
            return render_error(error.code)
        return error

    @app.errorhandler(UnreadableSecret)
    def _unreadable_secret(error):
        # A setting to mend (TOTP_ENCRYPTION_KEYS lost the key of stored secrets), not a
        # fault of the request: logged for the operator with the user's id only, and the
        # person told to come back later rather than shown a crash.
        db.session.rollback()
        log.error("second factor unavailable on %s %s: %s", request.method, request.path, error)
        return render_error(503)

    @app.errorhandler(Exception)
    def _unexpected(error):
        db.session.rollback()
        # Only the path and the exception type: form values may carry personal data.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
