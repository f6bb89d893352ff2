"""Account pages: register, confirm, log in and out, reset the password, edit the profile."""

from urllib.parse import quote_plus

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from portal import errors, permissions
from portal.associations import queries as association_queries
from portal.auth import account_bp, bp, operations, throttle, tokens, two_factor
from portal.auth.forms import (
    ConfirmForm,
    EmailForm,
    EndSessionsForm,
    EnrolmentForm,
    LoginForm,
    ProfileForm,
    RegistrationForm,
    ResetPasswordForm,
    SecondFactorForm,
    StaffProfileForm,
)
from portal.auth.sessions import (
    active_sessions,
    current_session,
    end_session,
    load_request_session,
    seconds_left,
    start_session,
    touch,
)
from portal.i18n import gettext as _
from portal.i18n import remember_language
from portal.safety import query_int, safe_next
from portal.templating import NEXT_MARK, layout_fragment
from portal.transaction import attempt

CHECK_EMAIL_REASONS = ("register", "confirm", "reset")


def home_for(user):
    """Where a user lands after logging in: their own area."""
    if permissions.is_admin(user):
        return url_for("admin.dashboard")
    if permissions.is_reviewer(user):
        return url_for("review.queue")
    return url_for("applications.dashboard")


# Every request: the session row first, then the second factor of staff ---------------

# Reachable by a logged-in user who has not passed the second factor yet: the account
# pages (log out, the second-factor pages), the public catalogue and the invitation link.
OPEN_BLUEPRINTS = frozenset({"auth", "catalog"})
OPEN_ENDPOINTS = frozenset({"static", "admin.accept_invite"})


@bp.before_app_request
def _load_session():
    """Resolve the session row before the view runs (see ``sessions.load_request_session``)."""
    load_request_session()


@bp.before_app_request
def _require_second_factor():
    """Staff pages (and every page of an account that needs a second factor) wait for it.

    The one place that enforces ASVS 4.3.1: a session that passed only the password is
    sent to the code step, or to enrolment when no authenticator is set up yet.
    """
    if request.endpoint is None or request.endpoint in OPEN_ENDPOINTS or request.blueprint in OPEN_BLUEPRINTS:
        return None
    if not current_user.is_authenticated or not two_factor.required_for(current_user):
        return None
    row = current_session()
    if row is not None and row.second_factor_at is not None:
        return None
    target = safe_next(request.full_path.rstrip("?")) if request.method == "GET" else None
    endpoint = "auth.two_factor" if current_user.has_two_factor else "auth.two_factor_setup"
    return redirect(url_for(endpoint, next=target))


# Stand-in for the seconds left in the idle warning's cached markup (the address: NEXT_MARK).
_SECONDS_MARK = "987654321"
# What werkzeug leaves unquoted in a query string (werkzeug.urls._urlencode), for ``next``.
_QUERY_SAFE = "!$'()*,/:;?@"


@bp.app_template_global()
def session_warning():
    """The idle warning of a logged-in page, with the seconds its session has left.

    The markup is a ``layout_fragment``, rendered once per language; the seconds left and
    this page's address (for the link that logs in again in a new tab) are put in.
    """
    row = current_session()
    seconds = 0 if row is None else seconds_left(row)
    html = layout_fragment("auth/_session_warning.html", seconds_left=_SECONDS_MARK, next=NEXT_MARK)
    address = quote_plus(request.full_path.rstrip("?"), safe=_QUERY_SAFE)
    return Markup(html.replace(_SECONDS_MARK, str(seconds)).replace(NEXT_MARK, escape(address)))  # noqa: S704


@bp.get("/keepalive")
def keepalive():
    """Keep the session open (the request counts as activity); JSON with the seconds left.

    Called by the idle warning's "stay logged in" button; 401 once the session has ended.
    """
    row = current_session() if current_user.is_authenticated else None
    if row is None:
        return jsonify(seconds_left=0), 401
    # Pressing the button is activity even within a minute of the last recorded one.
    return jsonify(seconds_left=seconds_left(touch(row)))


# Registration and confirmation ---------------------------------------------------------


def _association_search_step(form):
    """The register's search box without script, on the registration and profile forms.

    A GET with ``?association=<id>`` (from /associations/search) fills the association
    fields with that entry. A POST by the "search" button lists the entries found, one by
    a "choose" button fills the fields with its entry: the form comes back with everything
    typed kept (passwords aside) and nothing saved. Returns the status of such a page
    (nothing to save), else None.
    """
    if request.method == "GET":
        chosen = query_int("association")
        if chosen:
            form.choose_association(association_queries.entry(chosen))
        return None
    if request.form.get("association_find"):
        wait = throttle.association_search.spend()
        if wait:
            abort(errors.too_many_attempts(wait))
        form.association_results = association_queries.search(form.association_search.data or "")
        return 200
    picked = request.form.get("association_pick", type=int)
    if picked:
        form.choose_association(association_queries.entry(picked))
        return 200
    return None


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create an applicant account; the answer never tells whether the email or CIN was known."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegistrationForm()
    searched = _association_search_step(form)
    if searched:
        return render_template("auth/register.html", form=form), searched
    if form.validate_on_submit():
        # A refused password is not a registration: it counts against no address.
        checked = attempt(
            operations.check_registration_password,
            form.email.data,
            form.password.data,
            form.profile_data(),
            form=form,
        )
        if not checked.ok:
            return render_template("auth/register.html", form=form)
        # Counted before the password is hashed: per client address and per address typed.
        wait = throttle.registration.spend(form.email.data)
        if wait:
            return errors.too_many_attempts(wait)
        operations.register_applicant(
            email=form.email.data,
            password=form.password.data,
            profile=form.profile_data(),
            locale=form.locale.data,
        )
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
        start_session(user)
        flash(_("Merci ! Votre adresse email est confirmée."), "success")
        return redirect(home_for(user))
    return render_template("auth/confirm.html", form=form, token=token)


@bp.post("/confirm/resend")
def resend_confirmation():
    """Send a new confirmation link: to the logged-in user, or to an address typed in."""
    if current_user.is_authenticated:
        if not current_user.is_confirmed:
            wait = throttle.confirmation.spend(current_user.email)
            if wait:
                return errors.too_many_attempts(wait)
            operations.send_confirmation(current_user)
            flash(_("Un nouveau lien de confirmation vient d'être envoyé à votre adresse email."), "info")
        return redirect(home_for(current_user))
    form = EmailForm()
    if not form.validate_on_submit():
        return render_template("auth/confirm_invalid.html", form=form), 400
    wait = throttle.confirmation.spend(form.email.data)
    if wait:
        return errors.too_many_attempts(wait)
    operations.resend_confirmation(form.email.data)
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
        # Counted per account (known or not, so a refusal reveals nothing) and per address.
        account = throttle.account_key(form.email.data)
        wait = throttle.login.retry_after(account)
        if wait:
            return errors.too_many_attempts(wait)
        user = operations.authenticate(form.email.data, form.password.data)
        if user is not None:
            start_session(user)
            target = safe_next(form.next.data)
            if two_factor.required_for(user):
                return redirect(url_for("auth.two_factor", next=target))
            return redirect(target or home_for(user))
        throttle.login.failed(account)
        form.form_errors.append(_("Adresse email ou mot de passe incorrect."))
    # Only a safe target is ever echoed back into the page.
    form.next.data = safe_next(form.next.data) or ""
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    """Log out (POST only, behind the CSRF token of the navbar form): the session row is deleted."""
    end_session()
    flash(_("Vous êtes déconnecté(e)."), "info")
    return redirect(url_for("catalog.home"))


# Forgotten password ----------------------------------------------------------------------


@bp.route("/forgot", methods=["GET", "POST"])
def forgot():
    """Ask for a reset link; the answer is the same whether the address is known or not."""
    form = EmailForm()
    if form.validate_on_submit():
        wait = throttle.password_reset.spend(form.email.data)
        if wait:
            return errors.too_many_attempts(wait)
        operations.request_password_reset(form.email.data)
        return redirect(url_for("auth.check_email", reason="reset"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token):
    """Choose a new password from a single-use link, then continue logged in."""
    user = tokens.read_reset_token(token)
    if user is None or not user.active:
        return render_template("auth/reset_invalid.html"), 400
    form = ResetPasswordForm()
    if (
        form.validate_on_submit()
        and attempt(operations.reset_password, user, form.password.data, form=form).ok
    ):
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
    row = current_session()
    # A password change keeps this browser logged in, at the same level it was.
    verified = row is not None and row.second_factor_at is not None
    if user.profile is not None:
        form = ProfileForm(obj=user.profile, email=user.email, locale=user.locale)
    elif permissions.is_staff(user):
        form = StaffProfileForm(locale=user.locale)
    else:
        abort(404)
    searched = _association_search_step(form) if isinstance(form, ProfileForm) else None
    if searched:
        return render_template("auth/profile.html", form=form, is_applicant=True), searched
    if form.validate_on_submit():
        is_applicant = isinstance(form, ProfileForm)
        wait = throttle.password_retry_after(user) if form.current_password.data else None
        if wait:
            return errors.too_many_attempts(wait)
        outcome = attempt(
            operations.update_account,
            user,
            current_password=form.current_password.data,
            locale=form.locale.data,
            profile=form.profile_data() if is_applicant else None,
            email=form.email.data if is_applicant else None,
            new_password=form.new_password.data or None,
            form=form,
        )
        if not outcome.ok and outcome.error.field == "current_password":
            throttle.password_failed(user)
        if outcome.ok:
            result = outcome.value
            # The language just saved is this visit's language too (it wins over the account's).
            remember_language(user.locale)
            if result.password_changed:
                # Every session ended, this one included: go on in a fresh one.
                start_session(user, second_factor=verified)
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


# Devices logged in (/me/sessions) ------------------------------------------------------


@account_bp.route("/me/sessions", methods=["GET", "POST"])
@login_required
def sessions():
    """The devices logged in to the account; log out one or all of the others (password again)."""
    user = current_user._get_current_object()
    this = current_session()
    rows = active_sessions(user)
    form = EndSessionsForm()
    status = 200
    if form.validate_on_submit():
        target = form.target()
        if target is not None and target not in {row.id for row in rows if row.id != this.id}:
            # Ended meanwhile (from another tab or by its timeout), or never one of this
            # user's other sessions: the same answer either way, and nothing changes.
            flash(_("Cette session était déjà fermée."), "info")
            return redirect(url_for("account.sessions"))
        wait = throttle.password_retry_after(user)
        if wait:
            return errors.too_many_attempts(wait)
        if not attempt(operations.end_other_sessions, user, form.current_password.data, target, form=form).ok:
            throttle.password_failed(user)
            status = 422
        else:
            if target is None:
                flash(_("Vous êtes déconnecté(e) de tous vos autres appareils."), "success")
            else:
                flash(_("Cet appareil est déconnecté."), "success")
            return redirect(url_for("account.sessions"))
    elif form.is_submitted():
        status = 422
    return render_template("auth/sessions.html", form=form, rows=rows, this=this), status


# Second factor (staff) -------------------------------------------------------------------


def _next_target(form):
    """The safe page to go to afterwards: from the form on POST, the query string on GET."""
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
    form.next.data = safe_next(form.next.data) or ""
    return form.next.data or None


@bp.route("/two-factor", methods=["GET", "POST"], endpoint="two_factor")
@login_required
def second_factor_step():
    """After the password: the code of the authenticator app, or a recovery code."""
    user = current_user._get_current_object()
    form = SecondFactorForm()
    target = _next_target(form)
    if not user.has_two_factor:
        if two_factor.may_enrol(user):
            return redirect(url_for("auth.two_factor_setup", next=target))
        return redirect(target or home_for(user))
    if current_session().second_factor_at is not None:
        return redirect(target or home_for(user))
    if form.validate_on_submit():
        account = throttle.account_key(user.email)
        wait = throttle.second_factor.retry_after(account)
        if wait:
            return errors.too_many_attempts(wait)
        method = operations.verify_second_factor(user, form.code.data)
        if method is not None:
            # A new session identifier for the more privileged session.
            start_session(user, second_factor=True)
            left = operations.recovery_codes_left(user) if method == "recovery" else None
            if left is not None:
                flash(
                    _(
                        "Code de secours accepté : il vous en reste %(n)s. Chaque code ne sert qu'une fois.",
                        n=left,
                    ),
                    "warning",
                )
            return redirect(target or home_for(user))
        throttle.second_factor.failed(account)
        form.code.errors.append(operations.WRONG_CODE)
    return render_template("auth/two_factor.html", form=form), 200 if not form.errors else 422


@bp.route("/two-factor/setup", methods=["GET", "POST"], endpoint="two_factor_setup")
@login_required
def second_factor_setup():
    """Set up an authenticator app: QR code (or the secret typed in), then a first code."""
    user = current_user._get_current_object()
    form = EnrolmentForm()
    target = _next_target(form)
    if user.has_two_factor:
        # Enrolling again would bypass the authenticator already set up.
        return redirect(url_for("auth.two_factor", next=target))
    if not two_factor.may_enrol(user):
        abort(404)
    secret = two_factor.enrolment_secret(user, current_session())
    if form.validate_on_submit():
        account = throttle.account_key(user.email)
        wait = throttle.second_factor.retry_after(account)
        if wait:
            return errors.too_many_attempts(wait)
        outcome = attempt(operations.enable_two_factor, user, secret, form.code.data, form=form)
        if not outcome.ok:
            throttle.second_factor.failed(account)
        else:
            codes = outcome.value
            start_session(user, second_factor=True)
            # Shown this once, in the answer to the POST: only their hashes are stored.
            return render_template("auth/recovery_codes.html", codes=codes, target=target or home_for(user))
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        secret=two_factor.spaced(secret),
        qr=two_factor.qr_data_uri(two_factor.provisioning_uri(user, secret)),
    ), 200 if not form.errors else 422
