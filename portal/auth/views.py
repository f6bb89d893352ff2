"""Account pages: register, confirm, log in and out, reset the password, edit the profile."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import permissions
from portal.auth import account_bp, bp, operations, tokens
from portal.auth.forms import (
    ConfirmForm,
    EmailForm,
    LoginForm,
    ProfileForm,
    RegistrationForm,
    ResetPasswordForm,
    StaffProfileForm,
)
from portal.auth.sessions import end_session, start_session
from portal.extensions import db
from portal.safety import safe_next

CHECK_EMAIL_REASONS = ("register", "confirm", "reset")


def home_for(user):
    """Where a user lands after logging in: their own area."""
    if permissions.is_admin(user):
        return url_for("admin.dashboard")
    if permissions.is_reviewer(user):
        return url_for("review.queue")
    return url_for("applications.dashboard")


def _field_error(form, error):
    """Show an operation's refusal next to the field it is about."""
    getattr(form, error.field).errors.append(error.message)


# Registration and confirmation ---------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create an applicant account; the answer never tells whether the email was known."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            operations.register_applicant(
                email=form.email.data,
                password=form.password.data,
                profile=form.profile_data(),
                locale=form.locale.data,
            )
        except operations.AccountError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            return redirect(url_for("auth.check_email", reason="register"))
    return render_template("auth/register.html", form=form)


@bp.get("/check-email")
def check_email():
    """Tell the visitor an email is on its way (the same page whoever they are)."""
    reason = request.args.get("reason")
    if reason not in CHECK_EMAIL_REASONS:
        reason = "register"
    return render_template("auth/check_email.html", reason=reason)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token):
    """GET shows a button; POST confirms the address and logs the user in."""
    user = tokens.read_confirm_token(token)
    if user is None or not user.active:
        return render_template("auth/confirm_invalid.html", form=EmailForm()), 400
    if user.is_confirmed:
        flash(_("Votre adresse email est déjà confirmée. Vous pouvez vous connecter."), "info")
        return redirect(url_for("auth.login"))
    form = ConfirmForm()
    if form.validate_on_submit():
        operations.confirm_email(user)
        db.session.commit()
        start_session(user)
        flash(_("Merci ! Votre adresse email est confirmée."), "success")
        return redirect(home_for(user))
    return render_template("auth/confirm.html", form=form, token=token)


@bp.post("/confirm/resend")
def resend_confirmation():
    """Send a new confirmation link: to the logged-in user, or to an address typed in."""
    if current_user.is_authenticated:
        if not current_user.is_confirmed:
            operations.send_confirmation(current_user)
            db.session.commit()
            flash(_("Un nouveau lien de confirmation vient d'être envoyé à votre adresse email."), "info")
        return redirect(home_for(current_user))
    form = EmailForm()
    if not form.validate_on_submit():
        return render_template("auth/confirm_invalid.html", form=form), 400
    operations.resend_confirmation(form.email.data)
    db.session.commit()
    return redirect(url_for("auth.check_email", reason="confirm"))


# Login and logout ----------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with email and password; failures all get the same answer."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(home_for(current_user))
    if form.validate_on_submit():
        user = operations.authenticate(form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            start_session(user)
            return redirect(safe_next(form.next.data) or home_for(user))
        db.session.rollback()
        form.form_errors.append(_("Adresse email ou mot de passe incorrect."))
    # Only a safe target is ever echoed back into the page.
    form.next.data = safe_next(form.next.data) or ""
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Log out (POST only, behind the CSRF token of the navbar form)."""
    end_session()
    flash(_("Vous êtes déconnecté(e)."), "info")
    return redirect(url_for("catalog.home"))


# Forgotten password ----------------------------------------------------------------------


@bp.route("/forgot", methods=["GET", "POST"])
def forgot():
    """Ask for a reset link; the answer is the same whether the address is known or not."""
    form = EmailForm()
    if form.validate_on_submit():
        operations.request_password_reset(form.email.data)
        db.session.commit()
        return redirect(url_for("auth.check_email", reason="reset"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token):
    """Choose a new password from a single-use link, then continue logged in."""
    user = tokens.read_reset_token(token)
    if user is None or not user.active:
        return render_template("auth/reset_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        operations.reset_password(user, form.password.data)
        db.session.commit()
        start_session(user)
        flash(_("Votre mot de passe a été modifié. Vos autres sessions ont été fermées."), "success")
        return redirect(home_for(user))
    return render_template("auth/reset.html", form=form, token=token)


# Profile (/me/profile) -------------------------------------------------------------------


@account_bp.route("/me/profile", methods=["GET", "POST"])
@login_required
def profile():
    """Edit one's profile, language and password; sensitive changes need the current password."""
    user = current_user._get_current_object()
    if user.profile is not None:
        form = ProfileForm(obj=user.profile, email=user.email, locale=user.locale)
    elif permissions.is_staff(user):
        form = StaffProfileForm(locale=user.locale)
    else:
        abort(404)
    if form.validate_on_submit():
        is_applicant = isinstance(form, ProfileForm)
        try:
            result = operations.update_account(
                user,
                current_password=form.current_password.data,
                locale=form.locale.data,
                profile=form.profile_data() if is_applicant else None,
                email=form.email.data if is_applicant else None,
                new_password=form.new_password.data or None,
            )
        except operations.AccountError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            if result.password_changed:
                # The bump ended every session, this one included: start a fresh one.
                start_session(user)
            flash(_("Vos informations ont été enregistrées."), "success")
            if result.email_changed:
                flash(
                    _(
                        "Un lien de confirmation a été envoyé à la nouvelle adresse email. Confirmez-la pour pouvoir candidater."
                    ),
                    "info",
                )
            return redirect(url_for("account.profile"))
    return render_template("auth/profile.html", form=form, is_applicant=isinstance(form, ProfileForm))
