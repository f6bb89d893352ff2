"""Issue 16, item 4: the demand the dashboard ranks, kept as counts by the writes that change it.

``interest_count`` (interests of active accounts per track and city) and ``resident_count``
(active applicant accounts per city of residence) move with every write path: registration,
profile edit, role change, deactivation and reactivation, erasure and purge, interests added
and withdrawn, the demo seed; ``flask counts check [--fix]`` finds and repairs a difference;
``/admin`` ranks from them, live.
"""

import re
from datetime import timedelta

from sqlalchemy import select, update

from portal.applications.models import Interest
from portal.auth.models import User
from portal.auth.staff import deactivate_user, reactivate_user
from portal.catalog.models import City, Track
from portal.demand import counts
from portal.demand.models import InterestCount, ResidentCount
from portal.demand.operations import register_interest, withdraw_interest
from portal.extensions import db
from portal.privacy.operations import purge_expired
from portal.timeutil import utcnow
from tests import factories
from tests.helpers import THREADS, Race, admin_client
from tests.security import formdata


def residents(city):
    """The residents kept for ``city`` (0 when no row)."""
    db.session.expire_all()
    return db.session.scalar(select(ResidentCount.n).where(ResidentCount.city_id == city.id)) or 0


def interests(track, city):
    """The interests kept for ``track`` in ``city`` (0 when no row)."""
    db.session.expire_all()
    return (
        db.session.scalar(
            select(InterestCount.n).where(
                InterestCount.track_id == track.id, InterestCount.city_id == city.id
            )
        )
        or 0
    )


def test_registration_and_profile_edit_move_the_residents(app, client):
    fes, oujda = factories.city("Fès"), factories.city("Oujda")
    db.session.commit()
    data = formdata.registration(fes, email="new.one@example.org")
    assert client.post("/auth/register", data=data).status_code == 302
    assert residents(fes) == 1 and counts.differences() == []

    # A profile whose form is valid as it stands (the factory's names hold digits).
    profile = {"city": fes, "cin": "CD123456", "phone": "+212612345678", "last_name": "Benali"}
    user = factories.user(email="mover@example.org", profile=profile)
    db.session.commit()
    assert residents(fes) == 2
    factories.login(client, user)
    response = client.post("/me/profile", data=formdata.profile(user, city_id=str(oujda.id)))
    assert response.status_code == 302
    assert (residents(fes), residents(oujda)) == (1, 1)
    # A save that keeps the city changes nothing.
    user = db.session.get(User, user.id)
    assert client.post("/me/profile", data=formdata.profile(user)).status_code == 302
    assert (residents(fes), residents(oujda)) == (1, 1)
    assert counts.differences() == []


def test_interests_added_and_withdrawn_move_the_interests(app, client):
    track, fes = factories.track(), factories.city("Fès")
    applicant = factories.user(profile={"city": fes})
    db.session.commit()
    factories.login(client, applicant)
    assert client.post("/me/interests", data={"track_id": track.id, "city_id": fes.id}).status_code == 302
    # A second click registers nothing more.
    assert client.post("/me/interests", data={"track_id": track.id, "city_id": fes.id}).status_code == 302
    assert interests(track, fes) == 1
    interest_id = db.session.scalar(select(Interest.id).where(Interest.applicant_id == applicant.id))
    assert client.post(f"/me/interests/{interest_id}/delete").status_code == 302
    assert interests(track, fes) == 0
    assert counts.differences() == []


def test_role_changes_and_deactivation_move_both_counts(app):
    admin, _admin_user = admin_client(app)
    track, fes = factories.track(), factories.city("Fès")
    applicant = factories.user(profile={"city": fes})
    factories.interest(applicant, track, fes)
    db.session.commit()
    assert (residents(fes), interests(track, fes)) == (1, 1)

    # A reviewer is no resident; the interests of an active account still count (as before).
    assert admin.post(f"/admin/users/{applicant.id}/role", data={"role": "reviewer"}).status_code == 302
    assert (residents(fes), interests(track, fes)) == (0, 1)
    assert admin.post(f"/admin/users/{applicant.id}/role", data={"role": "applicant"}).status_code == 302
    assert (residents(fes), interests(track, fes)) == (1, 1)
    assert counts.differences() == []

    assert admin.post(f"/admin/users/{applicant.id}/deactivate").status_code == 302
    assert (residents(fes), interests(track, fes)) == (0, 0)
    assert counts.differences() == []
    assert admin.post(f"/admin/users/{applicant.id}/reactivate").status_code == 302
    assert (residents(fes), interests(track, fes)) == (1, 1)
    assert counts.differences() == []


def test_erasure_and_purge_move_both_counts(app, client):
    track, fes = factories.track(), factories.city("Fès")
    leaving = factories.user(profile={"city": fes})
    staying = factories.user(profile={"city": fes})
    factories.interest(leaving, track, fes)
    factories.interest(staying, track, fes)
    db.session.commit()
    assert (residents(fes), interests(track, fes)) == (2, 2)
    factories.login(client, leaving)
    response = client.post("/me/delete", data={"current_password": factories.PASSWORD, "understood": "y"})
    assert response.status_code == 302
    assert (residents(fes), interests(track, fes)) == (1, 1)
    assert counts.differences() == []

    # The retention purge anonymises an account left unused (an application long closed).
    old = factories.offering(city=fes, status="closed", closed_at=utcnow() - timedelta(days=3 * 365))
    factories.application(staying, old)
    db.session.commit()
    purge_expired()
    db.session.commit()
    assert not db.session.get(User, staying.id).active
    assert (residents(fes), interests(track, fes)) == (0, 0)
    assert counts.differences() == []


def test_the_demo_seed_counts_its_applicant(app, runner):
    result = runner.invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    rabat = db.session.scalar(select(City).where(City.slug == "rabat"))
    assert residents(rabat) == 1
    assert counts.differences() == []


def test_the_check_command_reports_and_fixes_a_difference(app, runner):
    track, fes = factories.track(), factories.city("Fès")
    applicant = factories.user(profile={"city": fes})
    factories.interest(applicant, track, fes)
    db.session.commit()
    ids = (track.id, fes.id)
    assert runner.invoke(args=["counts", "check"]).exit_code == 0

    # Counts written behind the operations' back are reported, then fixed.
    db.session.execute(update(ResidentCount).where(ResidentCount.city_id == ids[1]).values(n=5))
    db.session.execute(update(InterestCount).where(InterestCount.track_id == ids[0]).values(n=0))
    db.session.commit()
    result = runner.invoke(args=["counts", "check"])
    assert result.exit_code == 1
    assert f"interests of track {ids[0]} in city {ids[1]}: kept 0, interests 1" in result.output
    assert f"residents of city {ids[1]}: kept 5, accounts 1" in result.output

    result = runner.invoke(args=["counts", "check", "--fix"])
    assert result.exit_code == 0 and "2 differences fixed" in result.output
    db.session.remove()
    assert counts.differences() == []
    assert runner.invoke(args=["counts", "check"]).exit_code == 0


def test_the_dashboard_ranks_the_kept_demand_live(app):
    admin, _ = admin_client(app)
    track, fes = factories.track(), factories.city("Fès")
    applicant = factories.user(profile={"city": fes})
    db.session.commit()

    def fes_row():
        html = admin.get("/admin").get_data(as_text=True)
        demand = html.split('id="demand-table"')[1].split("</table>")[0]
        return next(r for r in re.findall(r"<tr>(.*?)</tr>", demand, re.S) if track.code in r)

    assert re.search(r'data-label="Candidats résidents">1</td>', fes_row())
    factories.interest(applicant, track, fes)
    factories.interest(factories.user(profile={"city": fes}), track, fes)
    db.session.commit()
    row = fes_row()
    assert re.search(r'data-label="Candidats résidents">2</td>', row)
    assert re.search(r">2</td>", row)


def test_concurrent_writes_about_the_same_accounts_lose_no_count(app):
    """Deactivations, reactivations, interests withdrawn and registered, for the same accounts
    in other threads at once: the counts match after (SQLite and PostgreSQL)."""
    admin = factories.user(role="admin")
    fes = factories.city("Fès")
    first, second = factories.track(), factories.track()
    people = [factories.user(profile={"city": fes}) for _ in range(THREADS)]
    deactivated = people[: THREADS // 2]
    for person in people:
        factories.interest(person, first, fes)
    for person in deactivated[:2]:
        deactivate_user(admin, person)
    db.session.commit()
    ids = (admin.id, fes.id, first.id, second.id, [p.id for p in people], [p.id for p in deactivated])
    db.session.remove()
    admin_id, fes_id, first_id, second_id, people_ids, deactivated_ids = ids
    # Each account is written by several threads: its state changes, its interests change.
    work = [("toggle", i) for i in deactivated_ids] + [("withdraw", i) for i in people_ids]
    work += [("register", i) for i in people_ids]

    def write(item):
        kind, user_id = item
        user = db.session.get(User, user_id)
        if kind == "toggle":
            actor = db.session.get(User, admin_id)
            (reactivate_user if not user.active else deactivate_user)(actor, user)
        elif kind == "withdraw":
            interest = db.session.scalar(
                select(Interest).where(Interest.applicant_id == user_id, Interest.track_id == first_id)
            )
            withdraw_interest(interest)
        else:
            register_interest(user, db.session.get(Track, second_id), db.session.get(City, fes_id))

    race = Race(app, THREADS)
    race.run([work[i::THREADS] for i in range(THREADS)], write)
    assert race.errors == []
    assert counts.differences() == []
    assert interests(db.session.get(Track, first_id), db.session.get(City, fes_id)) == 0
