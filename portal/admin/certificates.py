"""The certificates screen: find a certificate by number or holder, revoke it (confirmed first)."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import permissions
from portal.admin import bp, get_or_404, page_number, page_size, queries
from portal.admin.forms import RevokeCertificateForm
from portal.certificates import operations
from portal.certificates.models import Certificate
from portal.certificates.queries import certificates_page
from portal.i18n import gettext as _
from portal.transaction import attempt


@bp.get("/certificates")
def certificates():
    """Issued certificates, newest first, searchable by number (any case or spacing) or name."""
    q = queries.clean_text(request.args.get("q"), 100)
    page = certificates_page(q, page_number(), page_size())
    return render_template("admin/certificates.html", page=page, q=q, args={"q": q} if q else {})


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["GET", "POST"])
def revoke_certificate(certificate_id):
    """Revoke a certificate: the page shows what will be revoked and asks the reason."""
    certificate = get_or_404(Certificate, certificate_id)
    if not permissions.can_revoke_certificate(current_user, certificate):
        flash(_("Ce certificat est déjà révoqué."), "warning")
        return redirect(url_for("admin.certificates", q=certificate.number))
    form = RevokeCertificateForm()
    status = 200
    if form.validate_on_submit():
        outcome = attempt(operations.revoke, current_user, certificate, form.reason.data, form=form)
        if outcome.ok:
            flash(_("Le certificat %(number)s est révoqué.", number=certificate.number), "success")
            return redirect(url_for("admin.certificates", q=certificate.number))
    if form.is_submitted():
        status = 422
    facts = operations.verification(certificate.number)
    return render_template(
        "admin/certificate_revoke.html", certificate=certificate, facts=facts, form=form
    ), status
