"""The register screens: the list, editing an entry, verifying it, merging two entries."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.admin import bp, get_or_404, page_number, page_size, queries
from portal.admin.forms import AssociationForm, ReferentForm
from portal.associations import membership
from portal.associations import operations as register
from portal.associations.models import Association
from portal.auth.models import User
from portal.extensions import db
from portal.i18n import gettext as _
from portal.safety import MAX_ID, query_int
from portal.transaction import attempt
from portal.vocabulary import AssociationField, AssociationState


def _search():
    """The list's search and filter, from the query string (unknown values are ignored)."""
    q = queries.clean_text(request.args.get("q"), 200)
    state = request.args.get("state")
    return q, state if state in AssociationState.values() else None


@bp.get("/associations")
def associations():
    """The register, searchable by name, number or city and filterable by state."""
    q, state = _search()
    page = queries.associations_page(q, state, page_number(), page_size())
    args = {k: v for k, v in (("q", q), ("state", state)) if v}
    return render_template("admin/associations.html", page=page, q=q, state=state, args=args)


@bp.route("/associations/<int:association_id>/edit", methods=["GET", "POST"])
def edit_association(association_id):
    """Correct an entry's names, number, city, field, founding year or contact email."""
    association = get_or_404(Association, association_id)
    form = AssociationForm(obj=association)
    form.city_id.choices = [("", _("— Choisir —"))] + [(c.id, c.name) for c in queries.all_cities()]
    form.field.choices = AssociationField.choices()
    if form.validate_on_submit():
        outcome = attempt(
            register.update_association,
            current_user,
            association,
            **{name: form[name].data for name in register.EDITABLE},
            form=form,
            others="form",
        )
        if outcome.ok:
            flash(_("L'association %(name)s a été modifiée.", name=association.name_fr), "success")
            return redirect(url_for("admin.associations"))
    return render_template(
        "admin/association_form.html", form=form, association=association, referent_form=ReferentForm()
    )


@bp.post("/associations/<int:association_id>/referents")
def add_referent(association_id):
    """Name an account (by its email) referent of the association; back to its edit page."""
    association = get_or_404(Association, association_id)
    form = ReferentForm()
    if form.validate_on_submit():
        outcome = attempt(
            membership.add_referent, current_user, association, form.email.data, category="error"
        )
        if outcome.ok:
            flash(
                _("%(name)s est maintenant référent de l'association.", name=outcome.value.display_name),
                "success",
            )
    else:
        flash(" ".join(str(m) for m in form.email.errors) or _("Adresse email invalide."), "error")
    return redirect(url_for("admin.edit_association", association_id=association.id, _anchor="referents"))


@bp.post("/associations/<int:association_id>/referents/<int:user_id>/remove")
def remove_referent(association_id, user_id):
    """Stop an account being a referent of the association; back to its edit page."""
    association = get_or_404(Association, association_id)
    user = get_or_404(User, user_id)
    if attempt(membership.remove_referent, current_user, association, user, category="error").ok:
        flash(_("%(name)s n'est plus référent de l'association.", name=user.display_name), "success")
    return redirect(url_for("admin.edit_association", association_id=association.id, _anchor="referents"))


@bp.post("/associations/<int:association_id>/verify")
def verify_association(association_id):
    """Mark an entry as verified by an administrator."""
    association = get_or_404(Association, association_id)
    if attempt(register.verify_association, current_user, association, category="error").ok:
        flash(_("L'association %(name)s est vérifiée.", name=association.name_fr), "success")
    return redirect(url_for("admin.associations"))


@bp.get("/associations/<int:association_id>/merge")
def merge_association(association_id):
    """Merging an entry into another: find the entry to keep, then confirm (nothing changes here)."""
    drop = get_or_404(Association, association_id)
    keep_id = query_int("keep")
    if keep_id is not None and keep_id != drop.id:
        keep = get_or_404(Association, keep_id)
        return render_template(
            "admin/association_merge.html", drop=drop, keep=keep, members=len(drop.members)
        )
    q = queries.clean_text(request.args.get("q"), 200)
    page = queries.associations_page(q, None, page_number(), page_size())
    candidates = [a for a in page.items if a.id != drop.id]
    args = {"association_id": drop.id, **({"q": q} if q else {})}
    return render_template(
        "admin/association_merge.html",
        drop=drop,
        keep=None,
        q=q,
        page=page,
        candidates=candidates,
        args=args,
    )


@bp.post("/associations/<int:association_id>/merge")
def merge_association_confirmed(association_id):
    """Merge the entry into the one chosen (sent by the confirmation page); back to the list."""
    drop = get_or_404(Association, association_id)
    keep_id = request.form.get("keep", type=int)
    keep = db.session.get(Association, keep_id) if keep_id and abs(keep_id) <= MAX_ID else None
    if keep is None:
        flash(_("Choisissez l'association à garder."), "error")
        return redirect(url_for("admin.merge_association", association_id=drop.id))
    name = drop.name_fr
    if attempt(register.merge_associations, current_user, keep, drop, category="error").ok:
        flash(
            _("L'association %(dropped)s est fusionnée dans %(kept)s.", dropped=name, kept=keep.name_fr),
            "success",
        )
        return redirect(url_for("admin.associations"))
    return redirect(url_for("admin.merge_association", association_id=drop.id))
