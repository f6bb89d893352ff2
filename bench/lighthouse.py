"""Lighthouse 12 (mobile, default simulated throttling) on the portal's pages under gunicorn.

Usage: ``.venv/bin/python bench/lighthouse.py [--runs 3] [--languages fr,ar] [--pages home,me]``

It migrates and seeds (``seed --demo``) a database in ``--instance`` (default
bench/results/lighthouse-instance), makes the fingerprinted static copies (``flask digest compile``),
starts gunicorn with ``gunicorn.conf.py`` as ``make serve`` does (staff second factor off,
so that a password login reaches /review and /admin), logs the demo accounts in through
the real login form, runs Lighthouse ``--runs`` times on each page in each language, and
prints the median of each figure per page and language (scores, FCP, LCP, TBT, CLS, bytes
transferred). Lighthouse 12.2.3 is installed with npm into bench/results/ when missing;
Chromium is Debian's /usr/bin/chromium. Reports (JSON) stay in bench/results/lighthouse-*/.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LIGHTHOUSE_VERSION = "12.2.3"
LIGHTHOUSE_DIR = ROOT / "bench" / "results" / f"lighthouse-{LIGHTHOUSE_VERSION}"
PASSWORD = "demo-password-2026"  # noqa: S105 - the demo accounts' (README)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")

# name: (path or None when found at run time, demo account or None for a visitor)
PAGES = {
    "home": ("/", None),
    "tracks": ("/tracks", None),
    "track": ("/tracks/NUM-TRANS", None),
    "privacy": ("/privacy", None),
    "register": ("/auth/register", None),
    "login": ("/auth/login", None),
    "me": ("/me", "applicant@demo.ma"),
    "apply": (None, "applicant@demo.ma"),
    "review": ("/review", "reviewer@demo.ma"),
    "admin": ("/admin", "admin@demo.ma"),
}


def free_port():
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """A tiny HTTP client that keeps the session cookie."""

    def __init__(self, port):
        self.port = port
        self.cookie = ""

    def request(self, method, path, body=None, language="fr"):
        """Send a request; return (status, headers, text)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Accept-Language": language}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(body)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, dict(response.getheaders()), text

    def login(self, email):
        """Log in through the real form (CSRF token included)."""
        _status, _headers, page = self.request("GET", "/auth/login")
        token = unescape(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1))
        status, headers, _text = self.request(
            "POST", "/auth/login", {"csrf_token": token, "email": email, "password": PASSWORD}
        )
        if status != 302 or "/auth/login" in headers.get("Location", ""):
            raise SystemExit(f"login of {email} failed ({status})")

    def set_language(self, language):
        """Choose the language with the menu's form (stored on the account when logged in)."""
        _status, _headers, page = self.request("GET", "/")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        data = {"next": "/"} | ({"csrf_token": unescape(token.group(1))} if token else {})
        self.request("POST", f"/lang/{language}", data)


def lighthouse_binary(explicit):
    """The Lighthouse CLI: the one given, or 12.2.3 installed into bench/results/."""
    if explicit:
        return explicit
    binary = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        LIGHTHOUSE_DIR.mkdir(parents=True, exist_ok=True)
        # --prefix: without it npm installs into the nearest folder with a package.json,
        # the repository's own, and rewrites its package.json and lock file.
        subprocess.run(
            [
                "npm",
                "i",
                "-E",
                f"lighthouse@{LIGHTHOUSE_VERSION}",
                "--prefix",
                str(LIGHTHOUSE_DIR),
                "--no-audit",
                "--no-fund",
                "--no-save",
            ],
            cwd=LIGHTHOUSE_DIR,
            check=True,
        )
    return str(binary)


def prepare(instance):
    """Migrate and seed the demo database, make the fingerprinted static files."""
    env = dict(os.environ, PORTAL_INSTANCE_PATH=str(instance))
    flask = [str(BIN / "flask"), "--app", "portal"]
    for command in (["db", "upgrade"], ["seed", "--demo"], ["digest", "compile"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    return env


def start_gunicorn(env, port, workers, priority=()):
    """gunicorn as make serve starts it; returns the process once /healthz answers."""
    env = dict(
        env,
        PORT=str(port),
        WEB_CONCURRENCY=str(workers),
        PORTAL_STAFF_TWO_FACTOR_REQUIRED="false",
        PORTAL_RATELIMIT_ENABLED="false",
    )
    process = subprocess.Popen(
        [*priority, str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if Client(port).request("GET", "/healthz")[0] == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def find_apply_path(client):
    """An application form the demo applicant may open."""
    for track in ("NUM-TRANS", "IA-APPL", "COM-DIG", "GEST-AF", "GEST-PROJ"):
        _status, _headers, page = client.request("GET", f"/tracks/{track}")
        for path in re.findall(r'href="(/apply/\d+)"', page):
            if client.request("GET", path)[0] == 200:
                return path
    raise SystemExit("no application form is open to the demo applicant")


def run_lighthouse(binary, url, cookie, language, report, priority=()):
    """One Lighthouse run; returns its JSON report."""
    headers = {"Accept-Language": language}
    if cookie:
        headers["Cookie"] = cookie
    command = [
        *priority,
        binary,
        url,
        "--output=json",
        f"--output-path={report}",
        "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless=new --no-sandbox",
        f"--extra-headers={json.dumps(headers)}",
    ]
    env = dict(os.environ, CHROME_PATH=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    for attempt in range(3):
        # On a busy machine Chromium now and then fails to start or to load in time: try again.
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode == 0:
            return json.loads(Path(report).read_text())
        print(
            f"  lighthouse failed on {url} (attempt {attempt + 1}): {done.stderr.strip()[-300:]}", flush=True
        )
    raise SystemExit(f"lighthouse failed three times on {url}")


def figures(report):
    """The figures of one report: scores (0-100) and metrics."""
    audits = report["audits"]
    row = {name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES}
    row["fcp"] = audits["first-contentful-paint"]["numericValue"]
    row["lcp"] = audits["largest-contentful-paint"]["numericValue"]
    row["tbt"] = audits["total-blocking-time"]["numericValue"]
    row["cls"] = audits["cumulative-layout-shift"]["numericValue"]
    row["bytes"] = audits["total-byte-weight"]["numericValue"]
    row["failed"] = sorted(
        {
            audit_ref["id"]
            for name in CATEGORIES
            for audit_ref in report["categories"][name]["auditRefs"]
            if audit_ref["weight"]
            and (audits[audit_ref["id"]]["score"] or 0) < 1
            and audits[audit_ref["id"]]["scoreDisplayMode"] in ("binary", "numeric")
            and name != "performance"
        }
    )
    return row


def main():
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page and language")
    parser.add_argument("--languages", default="fr,ar")
    parser.add_argument("--pages", default=",".join(PAGES), help=f"among {', '.join(PAGES)}")
    parser.add_argument(
        "--instance",
        default=str(ROOT / "bench" / "results" / "lighthouse-instance"),
        help="instance folder (database)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority of gunicorn, Lighthouse and Chromium (e.g. -8 as root on a busy machine)",
    )
    parser.add_argument(
        "--lighthouse", help="path of the lighthouse CLI (default: installed into bench/results/)"
    )
    args = parser.parse_args()
    if not shutil.which(os.environ.get("CHROME_PATH", "/usr/bin/chromium")):
        raise SystemExit("Chromium is missing: apt-get install chromium")
    binary = lighthouse_binary(args.lighthouse)
    pages = [name for name in args.pages.split(",") if name]
    languages = [code for code in args.languages.split(",") if code]
    out = ROOT / "bench" / "results" / f"lighthouse-{datetime.now():%Y%m%d-%H%M%S}"
    out.mkdir(parents=True)
    env = prepare(Path(args.instance))
    port = free_port()
    priority = ["nice", "-n", str(args.nice)] if args.nice else []
    server = start_gunicorn(env, port, args.workers, priority)
    results = {}
    try:
        print(HEADER, flush=True)
        for language in languages:
            for name in pages:
                path, account = PAGES[name]
                client = None
                if account:
                    # A fresh login for each page: no session outlives its idle timeout.
                    client = Client(port)
                    client.login(account)
                    client.set_language(language)
                if path is None:
                    path = find_apply_path(client)
                rows = []
                for run in range(args.runs):
                    report = run_lighthouse(
                        binary,
                        f"http://127.0.0.1:{port}{path}",
                        client.cookie if client else "",
                        language,
                        out / f"{name}-{language}-{run + 1}.json",
                        priority,
                    )
                    rows.append(figures(report))
                results[(name, language)] = (path, rows)
                print_row(name, language, path, rows, flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print()
    print_table(results, args.runs)
    # Lighthouse's simulated timings start from what Chromium measured: on a busy machine the
    # main-thread tasks (hence TBT and the performance score) grow with the load.
    print(
        "load average (1, 5, 15 min) at the end: {:.1f} {:.1f} {:.1f} on {} cores".format(
            *os.getloadavg(), os.cpu_count()
        )
    )
    (out / "summary.json").write_text(
        json.dumps({f"{name}-{lang}": rows for (name, lang), (_p, rows) in results.items()}, indent=1)
    )
    print(f"\nReports: {out.relative_to(ROOT)}")


def median_row(rows):
    """The median of each figure over the runs."""
    keys = [key for key in rows[0] if key != "failed"]
    row = {key: statistics.median(r[key] for r in rows) for key in keys}
    row["failed"] = sorted({audit for r in rows for audit in r["failed"]})
    return row


HEADER = (
    f"{'page':<9} {'lang':<4} {'perf':>4} {'a11y':>4} {'bp':>4} {'seo':>4} "
    f"{'FCP ms':>7} {'LCP ms':>7} {'TBT ms':>6} {'CLS':>6} {'KiB':>6}  perf runs  failing audits"
)


def print_row(name, language, _path, rows, flush=False):
    """One line of the table: medians, every run's performance score, failed audits."""
    m = median_row(rows)
    runs = "/".join(str(r["performance"]) for r in rows)
    print(
        f"{name:<9} {language:<4} {m['performance']:>4.0f} {m['accessibility']:>4.0f} "
        f"{m['best-practices']:>4.0f} {m['seo']:>4.0f} {m['fcp']:>7.0f} {m['lcp']:>7.0f} "
        f"{m['tbt']:>6.0f} {m['cls']:>6.3f} {m['bytes'] / 1024:>6.1f}  {runs:<9}  {' '.join(m['failed'])}",
        flush=flush,
    )


def print_table(results, runs):
    """The whole table, medians of ``runs`` runs."""
    print(f"Lighthouse {LIGHTHOUSE_VERSION}, mobile, simulated throttling; median of {runs} run(s)")
    print(HEADER)
    for (name, language), (path, rows) in results.items():
        print_row(name, language, path, rows)


if __name__ == "__main__":
    main()
