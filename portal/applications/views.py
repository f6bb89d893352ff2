"""Applicant pages (placeholder until the applications package is completed)."""

from flask import render_template

from portal.applications import bp


@bp.get("/me")
def dashboard():
    """Dashboard."""
    return render_template("base.html")


@bp.route("/apply/<int:offering_id>", methods=["GET", "POST"])
def apply(offering_id):
    """Apply."""
    return render_template("base.html")
