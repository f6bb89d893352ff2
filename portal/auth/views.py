"""Account pages (placeholder until the auth package is completed)."""

from flask import render_template

from portal.auth import bp


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in."""
    return render_template("base.html")


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Register."""
    return render_template("base.html")


@bp.post("/logout")
def logout():
    """Log out."""
    return render_template("base.html")


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    """Profile (served at /me/profile by the final version)."""
    return render_template("base.html")
