"""Profile one submission (POST /apply/<id> with two PDFs) in-process, on a copy of a benchmark database.

CPU time per submission of the newcomer to each offering it may apply to, the applications
removed between loops, and optionally a pyinstrument tree, a cProfile listing or the SQL
statements of one submission:

    .venv/bin/python bench/profile_submit.py --loops 5 [--tree | --flat | --sql]

The SQLite database of bench/profile_page.py (1,000 applications) is copied into a temporary
folder of this run, with the uploads, and removed at the end.
"""

import argparse
import io
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.profile_page import prepared_database  # noqa: E402
from bench.run import MOTIVATION, PDF  # noqa: E402


def main():
    """Measure (and optionally profile) submissions; print CPU milliseconds per submission."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=10)
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--tree", action="store_true", help="pyinstrument tree")
    shown.add_argument("--flat", action="store_true", help="cProfile, by own time and by portal function")
    shown.add_argument("--sql", action="store_true", help="the statements of one submission")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    # Beside the benchmark's own runs, not in the system's temporary folder: on some
    # machines creating a file there costs ten times more, which the portal would not pay.
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="profile-submit-", dir=results) as folder:
        run(args, Path(folder))


def run(args, folder):
    """Submit to every eligible offering ``args.loops`` times on a copy in ``folder``."""
    url, population = prepared_database(1000)
    database = folder / "portal.db"
    shutil.copy(url.removeprefix("sqlite:///"), database)
    os.environ["PORTAL_INSTANCE_PATH"] = str(folder / "instance")

    from sqlalchemy import event, text

    from portal import create_app
    from portal.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "profile",
            "MAX_ACTIVE_APPLICATIONS": 100,
            "UPLOAD_FOLDER": str(folder / "uploads"),
        }
    )
    client = app.test_client()
    response = client.post(
        "/auth/login", data={"email": population["newcomer_email"], "password": population["password"]}
    )
    assert response.status_code in (302, 303), response.status_code
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    logged_in_cookie = client.get_cookie(cookie_name).value
    eligible = [
        offering
        for offering in population["current_offering_ids"]
        if b"motivation" in client.get(f"/apply/{offering}").data
    ]

    def reset():
        with app.app_context():
            user = db.session.execute(
                text("select id from user where email = :e"), {"e": population["newcomer_email"]}
            ).scalar()
            own = "select id from application where applicant_id = :u"
            for table in ("document", "status_change", "review"):
                db.session.execute(text(f"delete from {table} where application_id in ({own})"), {"u": user})
            db.session.execute(text("delete from application where applicant_id = :u"), {"u": user})
            db.session.execute(text("update offering set seats_held = 0"))
            db.session.commit()

    def submit(offering):
        data = {
            "motivation": MOTIVATION,
            "expected_benefit": MOTIVATION,
            "membership": (io.BytesIO(PDF), "attestation.pdf", "application/pdf"),
            "cin_copy": (io.BytesIO(PDF), "cin.pdf", "application/pdf"),
            "consent": "y",
            "confirm": "y",
        }
        response = client.post(f"/apply/{offering}", data=data, content_type="multipart/form-data")
        assert response.status_code in (302, 303), (offering, response.status_code, response.data[:3000])
        # A browser follows the redirect, whose page shows the confirmation and takes it out
        # of the session: back to the cookie without it, rather than letting a hundred pile up.
        client.set_cookie(cookie_name, logged_in_cookie)

    reset()
    for offering in eligible:
        submit(offering)
    print("eligible offerings", len(eligible))
    if args.sql:
        reset()
        statements = []
        with app.app_context():
            engine = db.engine

        def log(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", log)
        submit(eligible[0])
        event.remove(engine, "before_cursor_execute", log)
        for statement in statements:
            print(" ".join(statement.split())[:160])
        print(len(statements), "statements")
        return

    profiler = None
    if args.tree:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
    elif args.flat:
        import cProfile

        profiler = cProfile.Profile()
    total, count = 0.0, 0
    for _ in range(args.loops):
        reset()
        if profiler is not None:
            profiler.enable() if args.flat else profiler.start()
        began = time.process_time()
        for offering in eligible:
            submit(offering)
        total += time.process_time() - began
        count += len(eligible)
        if profiler is not None:
            profiler.disable() if args.flat else profiler.stop()
    print(f"submission: {total / count * 1000:.2f} ms CPU per request over {count}")
    if args.tree:
        print(profiler.output_text(unicode=True, color=False))
    elif args.flat:
        import pstats

        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"portal/|templates/", 40)
        if os.environ.get("PROFILE_CALLERS"):
            pstats.Stats(profiler).print_callers(os.environ["PROFILE_CALLERS"])


if __name__ == "__main__":
    main()
