"""Throttling of password and second-factor guesses (ASVS 2.2.1), and of the forms that
send account emails or hash a password (ASVS 11.1.4).

Failed attempts are counted in a moving window, per account and per client address,
with the ``limits`` library, in the storage named by ``RATELIMIT_STORAGE_URI`` (Redis in
production, so every worker and every server shares the counts). Each application keeps
its own storage object in ``app.extensions``, so two applications in one process (tests)
never share counts by accident.

The email forms (registration, forgotten password, new confirmation link, staff
invitation) count every request they accept, before any hashing or rendering: per client
address for each form, and per target address for all of them together, whether the
address has an account or not, so that nobody can flood an inbox and a refusal tells
nothing about the address.

Keys never contain an email or an address: both are replaced by a keyed digest.
"""

import hashlib
import hmac
import math
import time

from flask import current_app, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from portal.auth.validators import normalize_email

_EXTENSION = "portal.auth.throttle"


def enabled():
    """Whether throttling is on (``RATELIMIT_ENABLED``, read at each request)."""
    return bool(current_app.config.get("RATELIMIT_ENABLED"))


def _strategy():
    """This application's moving-window limiter, built once per storage URI."""
    app = current_app._get_current_object()
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    cached = app.extensions.get(_EXTENSION)
    if cached is None or cached[0] != uri:
        options = app.config.get("RATELIMIT_STORAGE_OPTIONS") or {}
        cached = (uri, MovingWindowRateLimiter(storage_from_string(uri, **options)))
        app.extensions[_EXTENSION] = cached
    return cached[1]


def _digest(purpose, value):
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def account_key(email):
    """The bucket of an account: a keyed digest of the normalised address (known or not)."""
    address = normalize_email(email) or (email or "").strip().lower()
    return _digest("account", address)


def address_key():
    """The bucket of the client address (after ProxyFix, when proxies are configured)."""
    return _digest("ip", request.remote_addr or "-")


class Limits:
    """The limits of one kind of guess, e.g. ``Limits("login")``: per account and per address."""

    def __init__(self, name, account_setting, address_setting):
        self.name = name
        self.account_setting = account_setting
        self.address_setting = address_setting

    def _checks(self, account):
        """(limit, bucket) pairs that apply to a guess about ``account``."""
        config = current_app.config
        pairs = [(parse(config[self.account_setting]), ("account", account))]
        if self.address_setting and config.get(self.address_setting):
            pairs.append((parse(config[self.address_setting]), ("address", address_key())))
        return pairs

    def retry_after(self, account):
        """Seconds to wait when a limit is reached for ``account`` or this address, else None."""
        if not enabled():
            return None
        strategy = _strategy()
        waits = []
        for limit, (kind, bucket) in self._checks(account):
            if not strategy.test(limit, self.name, kind, bucket):
                reset_at, _remaining = strategy.get_window_stats(limit, self.name, kind, bucket)
                waits.append(max(1, math.ceil(reset_at - time.time())))
        return max(waits) if waits else None

    def failed(self, account):
        """Count one failed guess against ``account`` and this address."""
        if not enabled():
            return
        strategy = _strategy()
        for limit, (kind, bucket) in self._checks(account):
            strategy.hit(limit, self.name, kind, bucket)


login = Limits("login", "LOGIN_ACCOUNT_LIMIT", "LOGIN_ADDRESS_LIMIT")
second_factor = Limits("second-factor", "TWO_FACTOR_ACCOUNT_LIMIT", None)


def password_retry_after(user):
    """Seconds before logged-in ``user`` may type their password again on a form, else None.

    The login form's budget: guessing the password from an open session gains nothing.
    """
    return login.retry_after(account_key(user.email))


def password_failed(user):
    """Count a wrong password typed by logged-in ``user`` (to confirm an action) as a failed login."""
    login.failed(account_key(user.email))


# Forms that send account emails --------------------------------------------------------

ACCOUNT_EMAILS = "account-email"


def _wait(strategy, limit, identifiers):
    """Seconds until ``limit`` has room again in the bucket ``identifiers``."""
    reset_at, _remaining = strategy.get_window_stats(limit, *identifiers)
    return max(1, math.ceil(reset_at - time.time()))


def _spend(checks):
    """Count one request in every (limit, identifiers) bucket of ``checks``, unless one is full.

    Returns the seconds to wait when a bucket is full (nothing is counted then), else None.
    """
    strategy = _strategy()
    waits = [_wait(strategy, limit, ids) for limit, ids in checks if not strategy.test(limit, *ids)]
    if waits:
        return max(waits)
    for limit, ids in checks:
        # Another worker may have taken the last place since the test: hit() refuses then.
        if not strategy.hit(limit, *ids):
            waits.append(_wait(strategy, limit, ids))
    return max(waits) if waits else None


def _target_check(email):
    """The bucket of account emails to ``email`` (typed or an account's, known or not)."""
    limit = parse(current_app.config["ACCOUNT_EMAIL_TARGET_LIMIT"])
    return limit, (ACCOUNT_EMAILS, "target", account_key(email))


class EmailRequests:
    """The budget of one form that sends an account email, e.g. ``EmailRequests("forgot", ...)``."""

    def __init__(self, name, address_setting):
        self.name = name
        self.address_setting = address_setting

    def spend(self, email):
        """Count one request about ``email`` from this client address.

        Returns the seconds to wait when this address used up the form's budget or
        ``email`` its share of account emails (nothing counted then), else None.
        """
        if not enabled():
            return None
        per_address = parse(current_app.config[self.address_setting])
        return _spend([(per_address, (self.name, "address", address_key())), _target_check(email)])


registration = EmailRequests("register", "REGISTER_ADDRESS_LIMIT")
password_reset = EmailRequests("forgot", "FORGOT_ADDRESS_LIMIT")
confirmation = EmailRequests("confirm-resend", "CONFIRM_RESEND_ADDRESS_LIMIT")
invitation = EmailRequests("invite", "INVITE_ADDRESS_LIMIT")


def spend_account_email(email):
    """Count one account email to ``email`` that no form asked for directly (a notice).

    False when ``email`` already had its share: the caller then sends nothing, silently.
    """
    if not enabled():
        return True
    return _spend([_target_check(email)]) is None


# Public reads that would list data if repeated -------------------------------------------


class AddressRequests:
    """The budget of a public read per client address: the register's search box, certificate checks."""

    def __init__(self, name, address_setting):
        self.name = name
        self.address_setting = address_setting

    def spend(self):
        """Count one request from this client address; seconds to wait when over budget, else None."""
        if not enabled():
            return None
        per_address = parse(current_app.config[self.address_setting])
        return _spend([(per_address, (self.name, "address", address_key()))])


association_search = AddressRequests("association-search", "ASSOCIATION_SEARCH_ADDRESS_LIMIT")
certificate_lookups = AddressRequests("verify", "VERIFY_ADDRESS_LIMIT")
