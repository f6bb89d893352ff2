"""Issue 11 point 1, measured: big form posts must not hold gunicorn's workers.

Starts the portal under gunicorn (gunicorn.conf.py, 3 workers, SQLite in a temporary
instance folder), then sends parallel posts of a huge email address to /auth/forgot —
3 MB (over MAX_FORM_BYTES: refused unread with the 413 page) and just under the body
limit with a valid form token (read, and refused by the length check) — while /healthz
is polled every 50 ms. Prints each post's status and time and /healthz's latencies.

    .venv/bin/python bench/slow_posts.py [--port 8123] [--workers 3] [--posts 3]
"""

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent


def request(port, method, path, body=None, headers=None, timeout=60):
    """(status, seconds, headers, body) of one request on a new connection."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, time.perf_counter() - started, response, data
    except (ConnectionError, OSError) as error:
        # gunicorn may close the connection while a refused body is still being sent.
        return type(error).__name__, time.perf_counter() - started, None, b""
    finally:
        connection.close()


def form_token(port):
    """A CSRF token of /auth/forgot and the session cookie it belongs to."""
    _status, _t, response, body = request(port, "GET", "/auth/forgot")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    return token, cookie


def wait_ready(port, deadline=60):
    """Wait until /healthz answers."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if request(port, "GET", "/healthz", timeout=2)[0] == 200:
            return
        time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def burst(port, size, posts, with_token):
    """``posts`` parallel posts of an email of ``size`` bytes, /healthz polled meanwhile."""
    results, health, stop = [], [], threading.Event()

    def poll():
        while not stop.is_set():
            status, seconds, _r, _b = request(port, "GET", "/healthz")
            health.append((status, seconds))
            time.sleep(0.05)

    def post():
        fields = {"email": "a" * size}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if with_token:
            token, cookie = form_token(port)
            fields["csrf_token"] = token
            headers["Cookie"] = cookie
        status, seconds, _r, _b = request(port, "POST", "/auth/forgot", urlencode(fields).encode(), headers)
        results.append((status, seconds))

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.2)
    threads = [threading.Thread(target=post) for _ in range(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    time.sleep(0.2)
    stop.set()
    poller.join()
    latencies = [seconds * 1000 for _status, seconds in health]
    print(f"\n{posts} parallel posts, email of {size:,} bytes{' (with form token)' if with_token else ''}:")
    for status, seconds in results:
        print(f"  POST /auth/forgot -> {status} in {seconds * 1000:.0f} ms")
    bad = sum(1 for status, _s in health if status != 200)
    print(
        f"  /healthz: {len(latencies)} polls, median {statistics.median(latencies):.1f} ms, "
        f"max {max(latencies):.1f} ms, not 200: {bad}"
    )


def main():
    """Start gunicorn, measure, stop it."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--posts", type=int, default=3)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="portal-slow-posts-")
    env = {
        **os.environ,
        "PORTAL_INSTANCE_PATH": instance,
        "PORT": str(args.port),
        "WEB_CONCURRENCY": str(args.workers),
        # Every post must reach the form, not the throttle.
        "PORTAL_RATELIMIT_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
    }
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [bin_dir / "flask", "--app", "portal", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [bin_dir / "gunicorn", "-c", "gunicorn.conf.py"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(args.port)
        # Warm every worker up (imports, templates) before measuring.
        for _ in range(10 * args.workers):
            request(args.port, "GET", "/auth/forgot")
            request(args.port, "GET", "/healthz")
        burst(args.port, 3 * 1024 * 1024, args.posts, with_token=True)
        burst(args.port, 250 * 1024 - 100, args.posts, with_token=True)
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
