"""Template globals and filters: language direction, status labels, permissions, dates."""

from datetime import datetime
from functools import lru_cache

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal as babel_format_decimal
from flask import current_app, request, url_for
from flask_babel import to_user_timezone
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from portal import permissions
from portal.i18n import current_language, gettext, is_rtl, isolate_text, ngettext, translations
from portal.timeutil import local_day, local_zone
from portal.vocabulary import ALL as VOCABULARIES
from portal.vocabulary import ApplicationStatus, Endorsement

try:
    # MarkupSafe's own escaping (C), without the ``Markup`` object ``escape`` wraps it in.
    from markupsafe import _escape_inner
except ImportError:  # a MarkupSafe without it: the public function, slower

    def _escape_inner(text):
        return str(escape(text))


LANGUAGE_NAMES = {"fr": "Français", "ar": "العربية", "en": "English"}

# Labels and formatted values depend only on the language (and the value): a page of
# fifty rows asks for the same few of them again and again.
_labels = {}


def per_language(key, build, language=None):
    """``build()``, made once per ``key`` and language (the one being rendered by default).

    For fixed texts, labels and badges: what they are made of must all be in ``key``, and
    ``key`` must come from a bounded set (a status, not anything a visitor typed).
    """
    cache_key = (key, language or current_language())
    try:
        return _labels[cache_key]
    except KeyError:
        pass
    value = _labels[cache_key] = build()
    return value


def status_label(status):
    """Translated label of an application status, in the language being rendered."""
    try:
        known = ApplicationStatus(status)
    except ValueError:
        # Not a status: shown as it is, and not kept (it may come from anywhere).
        return status
    return per_language(("status_label", known), lambda: str(known.label))


def status_badge(status):
    """A status badge: colour, a symbol and the label, so it never relies on colour alone."""
    try:
        known = ApplicationStatus(status)
    except ValueError:
        known = None

    def build():
        if known is None:
            colour, symbol = "secondary", "•"
        else:
            colour, symbol = known.badge, known.symbol
        return Markup(
            '<span class="badge text-bg-{} status-badge" data-status="{}"><span aria-hidden="true">{}</span> {}</span>'
        ).format(colour, status, symbol, status_label(status))

    if known is None:
        return build()
    return per_language(("status_badge", known), build)


def status_badges():
    """Every status's badge in the language being rendered, by status (for pages listing many)."""
    return per_language("badges", lambda: {status: status_badge(status) for status in ApplicationStatus})


def endorsement_badge(state):
    """An endorsement badge (colour, symbol, label), built once per language and state."""
    known = Endorsement(state)
    return per_language(
        ("endorsement_badge", known),
        lambda: Markup(
            '<span class="badge text-bg-{} endorsement-badge text-wrap" data-endorsement="{}">'
            '<span aria-hidden="true">{}</span> {}</span>'
        ).format(known.badge, known.value, known.symbol, str(known.label)),
    )


# One pattern per kind of date and per language, everywhere (pages, emails, chart labels):
# a reader never meets "12/1/26" on one page and "Dec 1, 2026" on the next. No seconds.
# Arabic writes the month's name (CLDR's medium Arabic date is all digits, easily misread
# as day/month or month/day) and separates the time with the Arabic comma.
DAY_PATTERNS = {"fr": "d MMM y", "en": "MMM d, y", "ar": "d MMMM y"}
DAY_TIME_PATTERNS = {"fr": "d MMM y 'à' HH:mm", "en": "MMM d, y, h:mm a", "ar": "d MMMM y، HH:mm"}


@lru_cache(maxsize=4096)
def _format_day(day, language):
    return babel_format_date(day, DAY_PATTERNS.get(language, DAY_PATTERNS["fr"]), locale=language)


def format_day(value):
    """A date, or the local (portal time zone) date of a UTC datetime: ``1 déc. 2026``."""
    if not value:
        return ""
    if isinstance(value, datetime):
        value = local_day(value)
    return _format_day(value, current_language())


def day_formatter():
    """``format_day`` for the many dates of one page: time zone and language read once."""
    language = current_language()
    zone = local_zone()

    def day(value):
        if not value:
            return ""
        if isinstance(value, datetime):
            value = local_day(value, zone)
        return _format_day(value, language)

    return day


def format_day_time(value):
    """A UTC datetime as a local day and time, to the minute: ``1 déc. 2026 à 14:00``."""
    if not value:
        return ""
    language = current_language()
    local = to_user_timezone(value)
    pattern = DAY_TIME_PATTERNS.get(language, DAY_TIME_PATTERNS["fr"])
    return babel_format_datetime(local, pattern, tzinfo=local.tzinfo, locale=language)


@lru_cache(maxsize=1024)
def _format_score(value, language):
    return babel_format_decimal(value, format="#,##0.0", locale=language)


def format_score(value):
    """A mean review score with one decimal, in the current language's digits and separator."""
    return _format_score(value, current_language())


@lru_cache(maxsize=256)
def _format_size_number(value, fmt, language):
    return babel_format_decimal(value, format=fmt, locale=language)


def format_file_size(size):
    """A file's size for people, in the current language: bytes, then KB and MB.

    One decimal below 10 (``1,5 Ko``), none above (``320 Ko``), and never 0 for a file
    that is not empty: below 1 KB the bytes are counted.
    """
    if size is None:
        return ""
    if size < 1024:
        return ngettext("%(num)d octet", "%(num)d octets", size)
    value, unit = size / 1024, "KB"
    if value >= 1023.5:
        value, unit = size / (1024 * 1024), "MB"
    number = _format_size_number(round(value, 1), "#,##0.#" if value < 10 else "#,##0", current_language())
    return gettext("%(size)s Ko", size=number) if unit == "KB" else gettext("%(size)s Mo", size=number)


def escape_text(value):
    """``markupsafe.escape(value)`` as a plain ``str``, for markup assembled in Python.

    For rows built as f-strings (``review/rows.py``, ``admin/dashboard_rows.py``): the
    ``Markup`` that ``escape`` returns costs some 0.35 µs to make, nine tenths of the
    call, and is only formatted into a string; a queue page escapes some 360 values, and
    its instructions fell by 12 % without it. The result is text, not markup: put it in a
    string that is then marked safe as a whole, never hand it to a template alone.
    """
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return _escape_inner(str(value))


def listing(*items):
    """Items read as one list, joined by the reader's comma (Arabic writes "،", not ",")."""
    text, pattern = "", None
    for item in items:
        if not text:
            text = item
            continue
        if pattern is None:
            # Without variables gettext gives the translated pattern, filled in below.
            pattern = per_language("listing", lambda: gettext("%(first)s, %(next)s"))
        text = pattern % {"first": text, "next": item}
    return text


def ltr(value):
    """``value`` (a code, a year) in ``<bdi dir="ltr">``, so it never reads backwards in Arabic."""
    if value in (None, ""):
        return ""
    return Markup('<bdi dir="ltr">{}</bdi>').format(value)


# Layout partials that hold nothing personal (links, menus, footer), rendered once per
# application, language, URL prefix and flags, then reused by every page as Markup.
_FRAGMENTS = "portal_fragments"


def layout_fragment(name, **flags):
    """The partial ``name`` rendered once per language, URL prefix and ``flags``, then reused.

    Only for markup that depends on nothing else: the partial sees the template globals
    and ``flags`` (never the request's user or session), so nobody's data can be kept.
    """
    cache = current_app.extensions.setdefault(_FRAGMENTS, {})
    key = (name, current_language(), request.script_root, *flags.items())
    try:
        return cache[key]
    except KeyError:
        pass
    # Output of an autoescaped template: escaped by Jinja.
    html = cache[key] = Markup(current_app.jinja_env.get_template(name).render(**flags))  # noqa: S704
    return html


def layout_nav():
    """The main links for this request's kind of account (the links, never the user)."""
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return layout_fragment("_layout_nav.html", authenticated=False)
    return layout_fragment(
        "_layout_nav.html",
        authenticated=True,
        applicant=permissions.is_applicant(user),
        staff=permissions.is_staff(user),
        admin=permissions.is_admin(user),
    )


# Stand-ins for this request's values in cached layout markup (the menu here, the idle
# warning in auth.views): plain words no escaping or URL quoting alters.
_TOKEN_MARK, NEXT_MARK = "portal-csrf-token-here", "portal-next-address-here"


def layout_menu():
    """The language menu (and the logout button) with this request's CSRF token and address.

    The markup is a ``layout_fragment``, rendered once per language and kind of visitor;
    only the token and the address to come back to are put in on each request.
    """
    authenticated = current_user.is_authenticated
    html = layout_fragment(
        "_layout_account.html",
        languages=tuple(current_app.config["LANGUAGES"]),
        authenticated=authenticated,
        csrf=_TOKEN_MARK,
        next=NEXT_MARK,
    )
    html = html.replace(NEXT_MARK, escape(request.full_path.rstrip("?")))
    if authenticated:
        html = html.replace(_TOKEN_MARK, escape(generate_csrf()))
    return Markup(html)  # noqa: S704 - a rendered template and two escaped values


def url_parts(endpoint, argument):
    """The URL of ``endpoint`` before and after its ``argument``, built once per URL root.

    A number stands in for the argument, so it may be an integer or a string (a reference).
    """
    cache = current_app.extensions.setdefault(_FRAGMENTS, {})
    key = ("url_parts", endpoint, argument, request.script_root)
    try:
        return cache[key]
    except KeyError:
        pass
    sentinel = 987654321
    prefix, found, suffix = url_for(endpoint, **{argument: sentinel}).rpartition(str(sentinel))
    if not found:
        raise ValueError(f"{endpoint}: {argument} is not in the URL")
    parts = cache[key] = (prefix, suffix)
    return parts


def url_prefix(endpoint, argument):
    """The URL of ``endpoint`` up to its ``argument``, which ends it (see ``url_parts``)."""
    prefix, suffix = url_parts(endpoint, argument)
    if suffix:
        raise ValueError(f"{endpoint}: {argument} does not end the URL")
    return prefix


def _apply_texts():
    """The apply action's fixed texts in the language being rendered, translated once."""

    def build():
        # As Jinja's gettext does: the translation is markup, only its variables are escaped.
        catalogue = translations()
        return tuple(
            Markup(text)  # noqa: S704 - the catalogue is the portal's own markup, as in templates
            for text in (
                catalogue.ugettext("Vous avez déjà postulé à cette session."),
                catalogue.ugettext("Voir ma candidature"),
                catalogue.ugettext("Vous ne pouvez pas postuler :"),
                catalogue.ugettext(
                    "Toutes les places sont attribuées : une nouvelle candidature ne peut aller que sur la liste d'attente."
                ),
                catalogue.ugettext("Postuler"),
            )
        )

    return per_language("apply_action", build)


def apply_action(offering, outlooks, class_="btn btn-primary"):
    """Beside an offering: the apply button, or why the logged-in applicant cannot apply.

    ``outlooks`` maps offering ids to ``applications.operations.Outlook`` (the submission's
    own rules); it is empty for visitors, who get the button (the rules come after login),
    and for staff, who get nothing. Plain markup: pages show it on every row.
    """
    outlook = outlooks.get(offering.id) if outlooks else None
    if outlook is None and current_user.is_authenticated:
        return ""
    return _apply_markup(
        offering.id,
        offering.track.title,
        offering.city.name,
        offering.seats_left,
        outlook,
        class_,
        _apply_texts(),
        url_prefix("applications.apply", "offering_id"),
    )


def _apply_markup(offering_id, title, city, seats_left, outlook, class_, texts, apply_prefix):
    """``apply_action``'s markup for the offering of these values, told ``outlook`` (or None).

    ``texts`` (``_apply_texts()``) and ``apply_prefix`` (the apply URL's) are the page's: a
    list reads them once for all its rows.
    """
    applied, see, refused, full, apply = texts
    if outlook is not None and outlook.reference:
        where = escape(listing(title, city))
        link = escape(url_for("applications.detail", reference=outlook.reference))
        return Markup(  # noqa: S704 - every value escaped above, the texts are the catalogue's markup
            f'<p class="apply-status small mb-0" data-offering="{offering_id}">{applied} <a href="{link}">'
            f'{see}<span class="visually-hidden"> — {where}</span></a></p>'
        )
    if outlook is not None and outlook.problem:
        return Markup(  # noqa: S704 - the problem escaped here, the texts are the catalogue's markup
            f'<p class="apply-reason small mb-0" data-offering="{offering_id}"><span class="fw-semibold">'
            f"{refused}</span> {escape(outlook.problem)}</p>"
        )
    where = escape(listing(title, city))
    note = (
        f'<p class="waitlist-note small mb-2" data-offering="{offering_id}">{full}</p>\n'
        if seats_left == 0
        else ""
    )
    return Markup(  # noqa: S704 - every value escaped above, the texts are the catalogue's markup
        f'{note}<a class="{escape(class_)}" href="{escape(apply_prefix)}{offering_id}">'
        f'{apply}<span class="visually-hidden"> — {where}</span></a>'
    )


def _deadline_text():
    """The open offering item's deadline pattern in the language being rendered, translated once."""
    # As Jinja's gettext does: the translation is markup, its variables are escaped.
    return per_language(
        "deadline_text",
        lambda: Markup(translations().ugettext("Date limite : %(date)s")),  # noqa: S704 - the catalogue's markup
    )


def _seats_text(language, seats_left):
    """``N places restantes`` in ``language``, translated once per number."""
    # As Jinja's ngettext does: the translation is markup, its number formatted into it.
    return per_language(
        ("seats_left", seats_left),
        lambda: Markup(  # noqa: S704 - the catalogue's markup, its number formatted below
            translations().ungettext("%(num)d place restante", "%(num)d places restantes", seats_left)
        )
        % {"num": seats_left},
        language,
    )


# The apply button's classes in the dashboard's list of open offerings.
_OFFERING_ITEM_BUTTON = "btn btn-primary btn-sm"


@lru_cache(maxsize=1024)
def _open_offering_parts(offering_id, code, title, city, seats_left, day, language, script_root):
    """An open offering item's markup before and after its apply action, and its apply button.

    Public, and kept by what it is made of: the values it shows (the deadline's ``day`` as
    the reader's time zone writes it), the catalogue's texts in ``language`` and the URLs
    under ``script_root``; nothing of the reader.
    """
    track_prefix = escape(url_prefix("catalog.track", "code"))
    head = (
        '<li class="list-group-item d-flex flex-wrap gap-2 justify-content-between align-items-center"'
        f' data-offering="{offering_id}">\n'
        "      <div>\n"
        f'        <a href="{track_prefix}{escape(code)}">{escape(title)}</a> — {escape(city)}\n'
        f'        <span class="small text-secondary d-block">{_deadline_text() % {"date": day}}'
        f" · {_seats_text(language, seats_left)}</span>\n"
        "      </div>\n"
        "      <div>"
    )
    button = _apply_markup(
        offering_id,
        title,
        city,
        seats_left,
        None,
        _OFFERING_ITEM_BUTTON,
        _apply_texts(),
        url_prefix("applications.apply", "offering_id"),
    )
    return head, str(button), "</div>\n    </li>"


def open_offering_items(offerings, outlooks, local_day):
    """The applicant's list of open offerings: track, city, deadline, seats and apply action.

    ``offerings`` are rows of ``catalog.views.open_offering_rows``; ``outlooks`` their
    ``Outlook`` by id; ``local_day`` the page's ``day_formatter()``. Plain markup (the same
    the dashboard wrote in Jinja, one ``<li>`` per offering): six of them on every ``/me``.
    The offering's own markup is made once per content (``_open_offering_parts``); only the
    apply action, when it is the reader's (their application, why they may not apply), is
    made for the page.
    """
    language, script_root = current_language(), request.script_root
    # Whether to show the apply action at all, as apply_action decides for a missing outlook.
    anonymous = not current_user.is_authenticated
    items = []
    for offering in offerings:
        offering_id, title, city, seats_left = offering.id, offering.title, offering.city, offering.seats_left
        day = local_day(offering.closes_at)
        head, button, tail = _open_offering_parts(
            offering_id, offering.code, title, city, seats_left, day, language, script_root
        )
        outlook = outlooks.get(offering_id) if outlooks else None
        if outlook is None:
            action = button if anonymous else ""
        elif outlook.reference or outlook.problem:
            action = _apply_markup(
                offering_id,
                title,
                city,
                seats_left,
                outlook,
                _OFFERING_ITEM_BUTTON,
                _apply_texts(),
                url_prefix("applications.apply", "offering_id"),
            )
        else:
            action = button
        items.append(f"{head}{action}{tail}")
    return Markup("\n    ".join(items))  # noqa: S704 - every value escaped above, the texts are the catalogue's markup


def init_app(app):
    """Register globals and filters."""
    app.jinja_env.globals.update(
        current_language=current_language,
        is_rtl=is_rtl,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        # ApplicationStatus, Role, Domain...: templates compare with members, never strings.
        **{vocabulary.__name__: vocabulary for vocabulary in VOCABULARIES},
        can=permissions,
        status_badge=status_badge,
        endorsement_badge=endorsement_badge,
        format_score=format_score,
        listing=listing,
        layout_fragment=layout_fragment,
        layout_nav=layout_nav,
        layout_menu=layout_menu,
        apply_action=apply_action,
        open_offering_items=open_offering_items,
        url_prefix=url_prefix,
        day_formatter=day_formatter,
    )
    # Flask-Babel's own date filters would bring other formats back (with seconds, or
    # "12/1/26"): the two below are the portal's only ones.
    for name in ("datetimeformat", "dateformat", "timeformat", "timedeltaformat"):
        app.jinja_env.filters.pop(name, None)
    app.jinja_env.filters.update(
        status_label=status_label,
        ltr=ltr,
        ltr_text=isolate_text,
        # The only two date filters: one format per kind of date.
        day=format_day,
        day_time=format_day_time,
        filesize=format_file_size,
    )

    @app.context_processor
    def _config_values():
        return {"config_languages": current_app.config["LANGUAGES"]}
