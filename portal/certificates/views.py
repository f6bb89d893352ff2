"""The participant's certificate download and the public verification pages."""

from flask import abort, current_app, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal import errors, permissions
from portal.applications.models import own_application
from portal.auth import throttle
from portal.certificates import bp, numbers
from portal.certificates.operations import certificate_of, issue, verification
from portal.certificates.pdf import CertificateFacts, render
from portal.vocabulary import CertificateLanguage


def _own_application_or_404(reference):
    """The logged-in user's own application ``reference`` with its track and city, or 404."""
    application = own_application(current_user.id, reference)
    if application is None:
        abort(404)
    return application


def verify_url(number):
    """The absolute address of the verification page of ``number`` (printed and in the QR code)."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for("certificates.verify_number", number=number)


def _facts(application, certificate):
    """What the PDF prints, read from the application, its applicant and the certificate."""
    profile = application.applicant.profile
    name_ar = None
    if profile.first_name_ar and profile.last_name_ar:
        name_ar = f"{profile.first_name_ar} {profile.last_name_ar}"
    offering = application.offering
    return CertificateFacts(
        number=certificate.number,
        name=profile.full_name,
        name_ar=name_ar,
        track_fr=offering.track.title_fr,
        track_ar=offering.track.title_ar,
        city_fr=offering.city.name_fr,
        city_ar=offering.city.name_ar,
        academic_year=application.academic_year,
        course_starts_on=offering.course_starts_on,
        issued_at=certificate.issued_at,
        verify_url=verify_url(certificate.number),
    )


@bp.get("/me/applications/<reference>/certificate.pdf")
@login_required
def certificate(reference):
    """The participant's certificate as a PDF, in French (default) or Arabic (``?lang=ar``).

    The first download issues the certificate (its number is kept for good); later ones
    render the same certificate in the language asked for. Anyone but the participant of
    a completed application, and a revoked certificate, get 404.
    """
    language = request.args.get("lang", CertificateLanguage.FR.value)
    if language not in CertificateLanguage.values():
        abort(404)
    application = _own_application_or_404(reference)
    if not permissions.can_get_certificate(current_user, application, certificate_of(application)):
        abort(404)
    issued = issue(application, language)
    response = make_response(render(_facts(application, issued), language))
    response.headers["Content-Type"] = "application/pdf"
    filename = f"certificat-{issued.number}-{language}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _public(response):
    """Verification answers: never stored (a revocation shows at once), never indexed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/verify")
def verify():
    """The form to type a certificate number; sent, it leads to that number's page."""
    typed = (request.args.get("number") or "").strip()
    if typed:
        number = numbers.normalize(typed) or typed[: numbers.MAX_TYPED]
        return redirect(url_for("certificates.verify_number", number=number))
    return _public(make_response(render_template("certificates/verify.html", typed="", result=None)))


@bp.get("/verify/<number>")
def verify_number(number):
    """Whether certificate ``number`` is valid (holder, track, city, year), revoked or unknown (404)."""
    wait = throttle.certificate_lookups.spend()
    if wait:
        return _public(errors.too_many_attempts(wait))
    result = verification(number)
    typed = number[: numbers.MAX_TYPED]
    page = render_template("certificates/verify.html", typed=typed, result=result)
    return _public(make_response(page, 200 if result is not None else 404))
