"""The cities screens: the list, adding a city, changing its names or region."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal.admin import bp, get_or_404, queries
from portal.admin.forms import CityForm
from portal.catalog import operations as catalog
from portal.catalog.models import City
from portal.i18n import gettext as _
from portal.transaction import attempt


def _region_choices():
    return [("", _("— Choisir —"))] + [(r.id, r.name) for r in queries.all_regions()]


@bp.get("/cities")
def cities():
    """Every city with its region and its offerings count."""
    return render_template("admin/cities.html", cities=queries.all_cities())


@bp.route("/cities/new", methods=["GET", "POST"])
def new_city():
    """Add a city (names in French, Arabic and English, and its region)."""
    form = CityForm()
    form.region_id.choices = _region_choices()
    if form.validate_on_submit():
        outcome = attempt(
            catalog.create_city,
            current_user,
            name_fr=form.name_fr.data,
            name_ar=form.name_ar.data,
            name_en=form.name_en.data,
            region_id=form.region_id.data,
            form=form,
            others="form",
        )
        if outcome.ok:
            flash(_("La ville %(name)s a été ajoutée.", name=outcome.value.name), "success")
            return redirect(url_for("admin.cities"))
    return render_template("admin/city_form.html", form=form, city=None)


@bp.route("/cities/<int:city_id>/edit", methods=["GET", "POST"])
def edit_city(city_id):
    """Change a city's names or region."""
    city = get_or_404(City, city_id)
    form = CityForm(obj=city)
    form.region_id.choices = _region_choices()
    if form.validate_on_submit():
        catalog.update_city(
            current_user,
            city,
            name_fr=form.name_fr.data,
            name_ar=form.name_ar.data,
            name_en=form.name_en.data,
            region_id=form.region_id.data,
        )
        flash(_("La ville %(name)s a été modifiée.", name=city.name), "success")
        return redirect(url_for("admin.cities"))
    return render_template("admin/city_form.html", form=form, city=city)
