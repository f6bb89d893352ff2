"""The staff screens: users, invitations, role changes, deactivation, second-factor reset."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import errors
from portal.admin import bp, get_or_404, page_number, page_size, queries
from portal.admin.forms import InviteForm, RoleForm
from portal.auth import staff, throttle
from portal.auth.models import User
from portal.i18n import gettext as _
from portal.transaction import attempt
from portal.vocabulary import Role


def _users_page(invite_form, status=200):
    q = queries.clean_text(request.args.get("q"), 254)
    role = request.args.get("role")
    role = role if role in Role.values() else None
    page = queries.users_page(q, role, page_number(), page_size())
    args = {k: v for k, v in (("q", q), ("role", role)) if v}
    return (
        render_template(
            "admin/users.html",
            page=page,
            q=q,
            role=role,
            args=args,
            invite_form=invite_form,
            role_form=RoleForm,
        ),
        status,
    )


@bp.get("/users")
def users():
    """Users, searchable by email or name and filterable by role; the invitation form."""
    return _users_page(InviteForm())


@bp.post("/users/invite")
def invite():
    """Invite a reviewer or an administrator: the account and an emailed link."""
    form = InviteForm()
    if form.validate_on_submit():
        wait = throttle.invitation.spend(form.email.data)
        if wait:
            return errors.too_many_attempts(wait)
        outcome = attempt(
            staff.invite_staff, current_user, form.email.data, form.role.data, form=form, others="form"
        )
        if outcome.ok:
            flash(_("Invitation envoyée à %(email)s.", email=outcome.value.email), "success")
            return redirect(url_for("admin.users"))
    return _users_page(form, status=422)


def _user_action(act, done_message):
    """Run ``act`` (one operation on a user), flash the outcome; back to the users."""
    if attempt(act, category="error").ok:
        flash(done_message(), "success")
    return redirect(url_for("admin.users"))


@bp.get("/users/<int:user_id>/role")
def confirm_role_change(user_id):
    """Confirmation page of a role change chosen in the list: the person, the old and new role.

    Nothing changes here (it works without script): the page's button sends the POST below.
    """
    user = get_or_404(User, user_id)
    role = request.args.get("role")
    if role not in Role.values():
        flash(_("Choisissez une valeur dans la liste."), "error")
        return redirect(url_for("admin.users"))
    if user.id == current_user.id:
        flash(_("Vous ne pouvez pas modifier votre propre rôle."), "error")
        return redirect(url_for("admin.users"))
    if role == user.role:
        flash(_("%(email)s a déjà le rôle %(role)s.", email=user.email, role=Role(role).label), "info")
        return redirect(url_for("admin.users"))
    return render_template(
        "admin/role_confirm.html",
        user=user,
        role=role,
        assignments=len(user.reviewed_offerings) if user.role == Role.REVIEWER else 0,
    )


@bp.post("/users/<int:user_id>/role")
def change_role(user_id):
    """Give a user another role (sent by the confirmation page)."""
    user = get_or_404(User, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choisissez une valeur dans la liste."), "error")
        return redirect(url_for("admin.users"))
    return _user_action(
        lambda: staff.change_role(current_user, user, form.role.data),
        lambda: _("Rôle de %(email)s : %(role)s.", email=user.email, role=Role(user.role).label),
    )


@bp.post("/users/<int:user_id>/deactivate")
def deactivate_user(user_id):
    """Deactivate an account and end its sessions."""
    user = get_or_404(User, user_id)
    return _user_action(
        lambda: staff.deactivate_user(current_user, user),
        lambda: _("Le compte %(email)s est désactivé.", email=user.email),
    )


@bp.post("/users/<int:user_id>/reset-two-factor")
def reset_second_factor(user_id):
    """Forget a staff member's authenticator: they enrol a new one at their next login."""
    user = get_or_404(User, user_id)
    return _user_action(
        lambda: staff.reset_second_factor(current_user, user),
        lambda: _("La double authentification de %(email)s est réinitialisée.", email=user.email),
    )


@bp.post("/users/<int:user_id>/reactivate")
def reactivate_user(user_id):
    """Reactivate an account."""
    user = get_or_404(User, user_id)
    return _user_action(
        lambda: staff.reactivate_user(current_user, user),
        lambda: _("Le compte %(email)s est réactivé.", email=user.email),
    )
