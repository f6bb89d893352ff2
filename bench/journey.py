"""CI journey over HTTP against the portal as deployed: gunicorn, PostgreSQL, Redis, email worker.

It recreates a PostgreSQL database, migrates and seeds it (``flask db upgrade``, ``seed``),
starts gunicorn with 3 workers, Redis for rate limits and the shared cache, and the email
worker, then, as a visitor would over HTTP: sees the catalogue (served from Redis), registers → confirms the address with the link of the
delivered email (an .eml file, no SMTP server) → logs out and in → applies to an open
offering with a PDF → sees the application on /me. Everything is stopped at the end.

    .venv/bin/python bench/journey.py            # or scripts/ci-gunicorn-journey.sh

PORTAL_JOURNEY_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/portal_ci_journey)
and PORTAL_JOURNEY_REDIS_URL (default redis://127.0.0.1:6379/0) choose the services.
"""

import argparse
import email
import email.policy
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    MOTIVATION,
    PDF,
    Browser,
    Server,
    fill,
    find_form,
    has_field,
    login,
    multipart,
    recreate_postgres,
)

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_ci_journey"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
PASSWORD = "journey-password-2026"  # noqa: S105 - throwaway account of a throwaway database


class JourneyFailed(Exception):
    """A step of the journey did not go as a visitor would expect."""


def step(message):
    """Print a step at once."""
    print(f"journey: {message}", flush=True)


def expect(condition, message):
    """Fail the journey with ``message`` unless ``condition``."""
    if not condition:
        raise JourneyFailed(message)


def recreate_database(url):
    """Drop and create the journey's PostgreSQL database (loopback only)."""
    from sqlalchemy.engine import make_url

    host = make_url(url).host
    expect(host in ("127.0.0.1", "localhost", None), f"PostgreSQL must be on the loopback, not {host}")
    try:
        recreate_postgres(url, marker="journey")
    except RuntimeError as error:
        raise JourneyFailed(str(error)) from error


def check_redis(url):
    """Fail unless Redis answers at ``url``."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        raise JourneyFailed(f"Redis unreachable at {url}: {error}") from error


def report_rate_limits(url, before):
    """Check that the failed login was counted in Redis, where every worker shares the counts."""
    import redis

    keys = set(redis.Redis.from_url(url).scan_iter(match="LIMITS*", count=1000))
    expect(keys - before, f"no rate-limit counter appeared in Redis at {url} after a failed login")
    step(f"the failed login is counted in Redis ({len(keys - before)} new keys)")


def check_shared_cache(port, url):
    """The catalogue seen by visitors on two workers: rendered once, kept in Redis."""
    import redis

    pages = {Browser(port).get("/tracks")[2] for _ in range(6)}
    expect(len(pages) == 1, f"visitors got {len(pages)} different catalogue pages")
    keys = list(redis.Redis.from_url(url).scan_iter(match="portal:visitor-page*", count=1000))
    expect(keys, f"the catalogue was not cached in Redis at {url}")
    step(f"the catalogue is served from the cache shared in Redis ({len(keys)} key)")


def limit_keys(url):
    """The rate-limit keys in Redis now."""
    import redis

    return set(redis.Redis.from_url(url).scan_iter(match="LIMITS*", count=1000))


def flask(env, *arguments):
    """Run a ``flask --app portal`` command with ``env``."""
    bin_dir = Path(sys.executable).parent
    result = subprocess.run(
        [str(bin_dir / "flask"), "--app", "portal", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    expect(result.returncode == 0, f"flask {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def wait_for_link(mail_dir, address, fragment, timeout=30):
    """The path of the first ``fragment`` link in an email delivered to ``address`` (.eml files)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(Path(mail_dir).glob("**/*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address not in str(message["To"]):
                continue
            text = message.get_body(preferencelist=("plain",)).get_content()
            for url in re.findall(r"https?://\S+", text):
                if fragment in url:
                    return re.sub(r"^https?://[^/]+", "", url.rstrip(".,)>"))
        time.sleep(0.5)
    raise JourneyFailed(f"no email with a {fragment} link reached {address} in {timeout}s (in {mail_dir})")


def post_form_of(browser, page, predicate, values=None, files=None):
    """Fill the form of ``page`` matching ``predicate`` and submit it; return (status, headers, body)."""
    status, _headers, body = browser.get(page)
    expect(status == 200, f"GET {page} answered {status}")
    form = find_form(body, predicate)
    expect(form is not None, f"no such form on {page}")
    action = form["attrs"].get("action") or page
    fields, uploads = fill(form, values or {}, files or {})
    if (form["attrs"].get("enctype") or "").startswith("multipart"):
        data, ctype = multipart(fields, uploads)
        return browser.request("POST", action, data, {"Content-Type": ctype})
    return browser.post_form(action, fields)


def journey(port, mail_dir):
    """Register, confirm, log out and in, apply with a PDF, see the application on /me."""
    visitor = Browser(port)
    address = f"journey-{secrets.token_hex(4)}@example.org"
    status, headers, _body = post_form_of(
        visitor,
        "/auth/register",
        lambda f: has_field(f, "password_confirm"),
        {
            "email": address,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "first_name": "Amina",
            "last_name": "Journey",
            "cin": f"JR{secrets.randbelow(900000) + 100000}",
            "birth_date": "1991-05-17",
            "phone": "0612345678",
            "education_level": "licence",
            "association_name": "Association Amal pour le développement",
            "association_registration": "RSK-2015-0421",
            "association_role": "Trésorière",
            "association_years": "4",
        },
    )
    expect(status in (302, 303), f"registration answered {status}, not a redirect")
    step(f"registered {address} → {headers.get('Location')}")

    link = wait_for_link(mail_dir, address, "/auth/confirm/")
    step("confirmation email delivered by the worker (.eml)")
    status, headers, _body = post_form_of(visitor, link, lambda f: "csrf_token" in str(f["fields"]))
    expect(status in (302, 303), f"confirmation answered {status}")
    step(f"address confirmed → {headers.get('Location')}")

    status, _headers, _body = post_form_of(
        visitor, "/me", lambda f: "logout" in (f["attrs"].get("action") or "")
    )
    expect(status in (302, 303), f"logout answered {status}")
    status, _headers, _body = visitor.get("/me")
    expect(status in (302, 303), f"/me after logout answered {status}, expected a redirect to the login page")
    step("logged out")

    status, _headers, _body = post_form_of(
        Browser(port),
        "/auth/login",
        lambda f: has_field(f, "password"),
        {"email": address, "password": "wrong-password-1"},
    )
    expect(status not in (302, 303), f"a wrong password answered {status}")
    step(f"a wrong password is refused ({status})")

    applicant = login(port, address, PASSWORD)
    step("logged in again through the login form")

    status, _headers, body = applicant.get("/tracks")
    expect(status == 200, f"/tracks answered {status}")
    offering_ids = re.findall(rb'href="/apply/(\d+)"', body)
    if not offering_ids:
        offering_ids = re.findall(rb'href="/apply/(\d+)"', applicant.get("/me")[2])
    expect(offering_ids, "no link to an application form on /tracks or /me")
    apply_path = f"/apply/{int(offering_ids[0])}"
    status, headers, _body = post_form_of(
        applicant,
        apply_path,
        lambda f: has_field(f, "motivation"),
        {"motivation": MOTIVATION, "expected_benefit": MOTIVATION},
        {"membership": ("attestation.pdf", PDF, "application/pdf")},
    )
    location = headers.get("Location", "")
    reference = re.search(r"APP-\d{4}-\d+", location)
    expect(status in (302, 303) and reference, f"applying answered {status} → {location!r}")
    step(f"applied at {apply_path} with a PDF: {reference.group(0)}")

    status, _headers, body = applicant.get("/me")
    expect(
        status == 200 and reference.group(0).encode() in body,
        f"/me ({status}) does not show {reference.group(0)}",
    )
    status, _headers, body = applicant.get(location)
    expect(status == 200 and reference.group(0).encode() in body, f"{location} answered {status}")
    step("the application is on /me and its page")


def main(argv=None):
    """Run the journey; exit 1 when a step fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("PORTAL_JOURNEY_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--redis", default=os.environ.get("PORTAL_JOURNEY_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args(argv)
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="portal-journey-"))
    mail_dir = work / "mail"
    env = dict(
        os.environ,
        PORTAL_SQLALCHEMY_DATABASE_URI=args.postgres,
        PORTAL_RATELIMIT_STORAGE_URI=args.redis,
        PORTAL_CACHE_TYPE="RedisCache",
        PORTAL_CACHE_REDIS_URL=args.redis,
        PORTAL_SECRET_KEY=secrets.token_hex(32),
        PORTAL_INSTANCE_PATH=str(work / "instance"),
        PORTAL_UPLOAD_FOLDER=str(work / "uploads"),
        PORTAL_MAIL_FILE_FOLDER=str(mail_dir),
    )
    server = worker = None
    try:
        check_redis(args.redis)
        recreate_database(args.postgres)
        flask(env, "db", "upgrade")
        flask(env, "seed")
        step(f"database migrated and seeded ({args.postgres.rsplit('/', 1)[-1]}), Redis at {args.redis}")
        server = Server("journey", args.postgres, workers=args.workers, env=env, logs=work)
        env["PORTAL_BASE_URL"] = f"http://127.0.0.1:{server.port}"
        server.extra_env = env
        server.start().wait_ready()
        expect(
            len(server.worker_pids()) == args.workers, f"gunicorn runs {len(server.worker_pids())} workers"
        )
        worker = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "flask"),
                "--app",
                "portal",
                "outbox",
                "worker",
                "--interval",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=open(work / "worker.log", "wb"),  # noqa: SIM115 - closed with the process
            stderr=subprocess.STDOUT,
        )
        step(f"gunicorn on 127.0.0.1:{server.port} with {args.workers} workers, email worker running")
        before = limit_keys(args.redis)
        check_shared_cache(server.port, args.redis)
        journey(server.port, mail_dir)
        report_rate_limits(args.redis, before)
    except JourneyFailed as failure:
        print(f"journey: FAILED: {failure}", file=sys.stderr)
        for log in sorted(work.glob("*.log")):
            print(f"--- {log.name} (last lines)", file=sys.stderr)
            print("\n".join(log.read_text(errors="replace").splitlines()[-30:]), file=sys.stderr)
        return 1
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=15)
        if server is not None:
            server.stop()
    step(f"passed in {time.monotonic() - began:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
