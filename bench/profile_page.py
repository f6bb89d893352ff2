"""Profile one page of the portal in-process, on a benchmark database.

CPU time per request (insensitive to other load on the machine, unlike requests/s) for
the page and for the baseline's B1, and optionally a pyinstrument profile of the page:

    .venv/bin/python bench/profile_page.py --applications 100000 --path /tracks
    .venv/bin/python bench/profile_page.py --url sqlite:///bench/results/x.db --as admin --path /admin --tree

Without ``--url`` a SQLite database is generated under bench/results/profile/ (reused
when it already holds the requested number of applications).
"""

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def cpu_per_request(client, path, count, headers=None):
    """Median-free simple mean of CPU milliseconds per request over ``count`` requests."""
    client.get(path, headers=headers)
    began = time.process_time()
    for _ in range(count):
        response = client.get(path, headers=headers)
        response.close()
    return (time.process_time() - began) / count * 1000, response.status_code


def print_statements(app, client, path):
    """Run one request and print its SQL statements with their durations (and plans on SQLite)."""
    from sqlalchemy import event

    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        statements.append((time.perf_counter() - conn.info.pop("bench_started"), statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        client.get(path).close()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    print(f"{len(statements)} statements, {sum(s[0] for s in statements) * 1000:.1f} ms in the database")
    for seconds, statement, parameters in statements:
        print(f"--- {seconds * 1000:.2f} ms {parameters!r}"[:300])
        print(statement)
        if engine.dialect.name == "sqlite" and statement.lstrip().upper().startswith("SELECT"):
            with engine.connect() as connection:
                plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            for row in plan:
                print("    plan:", row[-1])


def _schema_fingerprint():
    """A digest of the models' tables, columns and indexes and of the generator: stale caches are rebuilt."""
    import hashlib

    import portal.models  # noqa: F401 - every table in the metadata
    from portal.extensions import db

    tables = [
        (
            t.name,
            sorted(c.name for c in t.c),
            sorted((i.name, [c.name for c in i.columns]) for i in t.indexes),
        )
        for t in db.metadata.sorted_tables
    ]
    generator = (ROOT / "bench" / "generate.py").read_bytes()
    return hashlib.sha256(repr(tables).encode() + generator).hexdigest()[:16]


def prepared_database(applications):
    """A generated SQLite database with ``applications`` applications (cached)."""
    from bench.generate import prepare_database

    folder = ROOT / "bench" / "results" / "profile"
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / f"portal-{applications}.db"
    meta = folder / f"portal-{applications}.json"
    url = f"sqlite:///{db_path}"
    fingerprint = _schema_fingerprint()
    if not (
        db_path.exists() and meta.exists() and json.loads(meta.read_text()).get("fingerprint") == fingerprint
    ):
        for extra in ("", "-wal", "-shm"):
            Path(f"{db_path}{extra}").unlink(missing_ok=True)
        population = prepare_database(url, applications)
        meta.write_text(json.dumps(dict(population.as_dict(), fingerprint=fingerprint), default=str))
    return url, json.loads(meta.read_text())


def _callgrind(command, pid):
    """Ask callgrind, which runs this process, to zero (``-z``) or dump (``-d name``) its counters."""
    import subprocess

    subprocess.run(["callgrind_control", *command, str(pid)], check=True, stdout=subprocess.DEVNULL)


def count_instructions(argv, requests):
    """Print instructions per request of the page and of B1, counted by valgrind (callgrind).

    CPU time on a shared machine swings by tens of per cent from one run to the next;
    instruction counts hardly move, so a change of 1 % can be seen. The script runs once
    under callgrind; it counts ``requests`` and then three times as many requests of each
    target, so that the difference is the requests alone (start-up, login and the
    counting's own calls cancel out). About 50 times slower than natively.
    """
    import re
    import subprocess
    import tempfile

    argv = [a for a in argv if a != "--instructions"]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__]
        # The same hashes in every run: dict and set layouts then execute the same code.
        env = dict(os.environ, PYTHONHASHSEED="0")
        subprocess.run(
            [*command, *argv, "--counted", "--requests", str(requests)],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        counts = {}
        for dump in Path(folder).glob("callgrind.out*"):
            text = dump.read_text()
            # One file per ``callgrind_control -d name``, and one for the end of the program.
            name = re.search(r"^desc: Trigger: dump (\S+)", text, re.M)
            total = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
            if name and total:
                counts[name.group(1)] = int(total.group(1))
    per = {
        t: (counts[f"{t}-{3 * requests}"] - counts[f"{t}-{requests}"]) / (2 * requests)
        for t in ("page", "b1")
    }
    print(f"B1 /b1: {per['b1'] / 1e6:.2f} M instructions per request")
    print(f"page: {per['page'] / 1e6:.2f} M instructions per request, {per['page'] / per['b1']:.2f} x B1")


def main(argv=None):
    """Print CPU ms per request of the page and of B1; print a profile with --tree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (population JSON via --population)")
    parser.add_argument("--population", help="JSON printed by bench/generate.py for --url")
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--path", default="/tracks")
    parser.add_argument(
        "--as", dest="role", choices=("anonymous", "applicant", "newcomer", "reviewer", "admin")
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--tree", action="store_true", help="print a pyinstrument profile of the page")
    parser.add_argument("--sql", action="store_true", help="print each SQL statement of one request, timed")
    parser.add_argument(
        "--flat", action="store_true", help="print the functions with the most own time (cProfile)"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per request under valgrind (repeatable, unlike CPU time; slow)",
    )
    # Internal: the run that valgrind counts (``--instructions``).
    parser.add_argument("--counted", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.instructions:
        count_instructions(argv if argv is not None else sys.argv[1:], args.requests)
        return
    logging.disable(logging.INFO)
    os.environ.setdefault("PORTAL_INSTANCE_PATH", str(ROOT / "bench" / "results" / "profile" / "instance"))

    if args.url:
        url, population = args.url, json.loads(Path(args.population).read_text()) if args.population else {}
    else:
        url, population = prepared_database(args.applications)

    from bench.baseline_app import create_app as create_baseline
    from portal import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "x",
        }
    )
    client = app.test_client()
    role = args.role or (
        "reviewer" if args.path.startswith("/review") else "admin" if args.path.startswith("/admin") else
        "applicant" if args.path.startswith("/me") else "anonymous"
    )  # fmt: skip
    if role != "anonymous":
        email = population[f"{role}_email"]
        response = client.post("/auth/login", data={"email": email, "password": population["password"]})
        assert response.status_code in (302, 303), f"login failed: {response.status_code}"
        if "/auth/two-factor" in response.headers.get("Location", ""):
            import pyotp

            location = response.headers["Location"]
            response = client.post(location, data={"code": pyotp.TOTP(population["totp_secret"]).now()})
            if response.status_code not in (302, 303):
                # A code is accepted once per 30 s step (replay protection): wait for the next one.
                time.sleep(30 - time.time() % 30 + 1)
                response = client.post(location, data={"code": pyotp.TOTP(population["totp_secret"]).now()})
            assert response.status_code in (302, 303), f"second factor refused: {response.status_code}"
    path = args.path.replace("{queue_offering}", str(population.get("queue_offering_id", "")))

    baseline = create_baseline(url).test_client()
    if args.counted:
        # Warm up (caches, compiled statements), then the requests valgrind counts.
        for name, target, target_path in (("page", client, path), ("b1", baseline, "/b1")):
            for _ in range(3):
                target.get(target_path).close()
            for count in (args.requests, 3 * args.requests):
                _callgrind(["-z"], os.getpid())
                for _ in range(count):
                    target.get(target_path).close()
                _callgrind(["-d", f"{name}-{count}"], os.getpid())
        return
    b1, _status = cpu_per_request(baseline, "/b1", args.requests)
    page, status = cpu_per_request(client, path, args.requests)
    print(f"B1 /b1: {b1:.2f} ms CPU per request")
    print(f"{path} as {role}: {page:.2f} ms CPU per request (status {status}); B1/page = {b1 / page:.0%}")
    if args.sql:
        print_statements(app, client, path)
    if args.tree:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(args.requests):
            client.get(path).close()
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.flat:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            client.get(path).close()
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
        # The portal's own functions and templates, by time spent inside them and below.
        pstats.Stats(profile).sort_stats("cumulative").print_stats(r"portal/|templates/", 40)
        if os.environ.get("PROFILE_CALLERS"):
            pstats.Stats(profile).print_callers(os.environ["PROFILE_CALLERS"])
        if os.environ.get("PROFILE_CALLEES"):
            pstats.Stats(profile).print_callees(os.environ["PROFILE_CALLEES"])


if __name__ == "__main__":
    main()
