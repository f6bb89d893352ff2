"""The Nu HTML Checker (npm ``vnu-jar``, run with Java) as one HTTP service for a test run.

``make test`` installs it (``npm ci``, see package.json). The service starts once, on a
free loopback port, the first time a test needs it, and stops at the end of the run:
one JVM for every page checked instead of one per page. ``structure_problems`` checks
what the Nu HTML Checker does not: forms left to the server's validation, scrolling tables
reachable by keyboard, error summaries that lead to their fields.
"""

import hashlib
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

from tests.helpers import free_port

VNU_JAR = Path(__file__).resolve().parents[1] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
STARTUP_SECONDS = 180  # loading the schemas takes 20-60 s on a busy two-core machine
_LANG = re.compile(r"<html[^>]*\slang=\"([^\"]*)\"")


class HtmlChecker:
    """A running vnu service: ``problems(html)`` lists its errors and warnings."""

    def __init__(self):
        assert VNU_JAR.exists(), f"{VNU_JAR} is missing: run `make test` (or `npm ci --ignore-scripts`)"
        java = shutil.which("java")
        assert java, "Java is missing: apt-get install -y default-jre-headless"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/?out=json"
        self._process = subprocess.Popen(  # noqa: S603 - fixed command, no shell
            [
                java,
                "-Xmx512m",
                "-Dnu.validator.servlet.bind-address=127.0.0.1",
                "-cp",
                str(VNU_JAR),
                "nu.validator.servlet.Main",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._ready = False
        self._seen = {}

    def _wait_until_ready(self):
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self._process.poll() is None, "the Nu HTML Checker stopped while starting"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5):  # noqa: S310
                    self._ready = True
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        raise AssertionError(f"the Nu HTML Checker did not start within {STARTUP_SECONDS} s")

    def problems(self, html):
        """The checker's errors and warnings on the document ``html``, as readable lines."""
        key = hashlib.sha256(html.encode()).hexdigest()
        if key not in self._seen:
            if not self._ready:
                self._wait_until_ready()
            request = urllib.request.Request(  # noqa: S310 - loopback service started above
                self.url, data=html.encode(), headers={"Content-Type": "text/html; charset=utf-8"}
            )
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                messages = json.load(response)["messages"]
            self._seen[key] = [
                f"line {m.get('lastLine', '?')}: {m.get('subType', m['type'])}: {m['message']}"
                f" — {m.get('extract', '').strip()!r}"
                for m in messages
                if m["type"] != "info" or m.get("subType") == "warning"
            ]
        return self._seen[key]

    def assert_valid(self, html, page):
        """Fail, naming the page, its language and each message, unless ``html`` is valid."""
        found = self.problems(html)
        if found:
            match = _LANG.search(html)
            language = match.group(1) if match else "?"
            raise AssertionError(
                f"Nu HTML Checker: {page} [{language}]: {len(found)} problem(s)\n  " + "\n  ".join(found)
            )

    def stop(self):
        """End the service."""
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


# Attributes and input types with which a browser would check a field itself, in its own
# language, before the server could answer in the page's.
_CONSTRAINTS = {"required", "pattern", "min", "max", "minlength", "step"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_CHECKED_TYPES = {"email", "url", "number", "date", "datetime-local", "time", "month", "week"}


class _Structure(HTMLParser):
    """Collects what ``structure_problems`` reports while parsing a page."""

    def __init__(self):
        super().__init__()
        self.problems = []
        self.ids = set()
        self.labelled_by = []
        self.form = None
        self.summary_depth = 0  # inside the error summary of a failed form, its depth
        self.summary_links = []
        self.region_names = []  # the labels of landmarks of the region kind

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if self.summary_depth and tag not in _VOID:
            self.summary_depth += 1
        elif attributes.get("id") == "form-errors":
            self.summary_depth = 1
        if self.summary_depth and tag == "a":
            self.summary_links.append(attributes.get("href") or "")
        if tag == "form":
            name = attributes.get("id") or attributes.get("action") or "(no action)"
            self.form = {"name": name, "novalidate": "novalidate" in attributes, "checked": []}
        elif tag in ("input", "select", "textarea") and self.form is not None:
            kind = attributes.get("type", "text")
            if kind != "hidden" and (_CONSTRAINTS & attributes.keys() or kind in _CHECKED_TYPES):
                self.form["checked"].append(attributes.get("id") or attributes.get("name"))
        if "table-responsive" in (attributes.get("class") or "").split():
            self._check_scrolling_region(attributes)
        if tag == "section" or attributes.get("role") == "region":
            name = attributes.get("aria-labelledby") or attributes.get("aria-label")
            if name:
                self.region_names.append(name)

    def handle_endtag(self, tag):
        if self.summary_depth:
            self.summary_depth -= 1
        if tag == "form" and self.form is not None:
            if self.form["checked"] and not self.form["novalidate"]:
                self.problems.append(
                    f"form {self.form['name']}: the browser would check {self.form['checked']} "
                    "in its own language (novalidate missing)"
                )
            self.form = None

    def _check_scrolling_region(self, attributes):
        where = attributes.get("aria-labelledby") or attributes.get("aria-label") or "?"
        if attributes.get("tabindex") != "0" or attributes.get("role") != "region":
            self.problems.append(f"table scrolling sideways ({where}): not a focusable region")
        if attributes.get("aria-labelledby"):
            self.labelled_by.append(attributes["aria-labelledby"])
        elif not (attributes.get("aria-label") or "").strip():
            self.problems.append(f"table scrolling sideways ({where}): no label")


def structure_problems(html):
    """What the Nu HTML Checker does not see, as readable lines.

    Forms that the browser would check itself, tables that scroll sideways without being
    focusable and labelled regions, regions named alike, error summaries whose links lead
    nowhere.
    """
    parser = _Structure()
    parser.feed(html)
    parser.close()
    for href in parser.summary_links:
        if not href.startswith("#") or href[1:] not in parser.ids:
            parser.problems.append(f"error summary: the link {href!r} leads to no field of the page")
    for name in sorted({n for n in parser.region_names if parser.region_names.count(n) > 1}):
        parser.problems.append(
            f"two regions have the same name ({name}): a scrolling table inside a region named alike"
        )
    for ids in parser.labelled_by:
        missing = [i for i in ids.split() if i not in parser.ids]
        if missing:
            parser.problems.append(f"table scrolling sideways: aria-labelledby names no element {missing}")
    return parser.problems
