"""Fixtures of the security tests: the staff second factor on, a Redis database of their own."""

import pytest
import redis

from tests.helpers import REDIS_URI, TOTP_NOW


@pytest.fixture
def required(app, clock):
    """STAFF_TWO_FACTOR_REQUIRED on (the app fixture restores the config); the clock frozen."""
    app.config["STAFF_TWO_FACTOR_REQUIRED"] = True
    clock.set(TOTP_NOW)
    return app


@pytest.fixture
def redis_db():
    """Redis database REDIS_DB, flushed before and after."""
    connection = redis.Redis.from_url(REDIS_URI)
    try:
        connection.ping()
    except redis.ConnectionError:  # pragma: no cover - CI always has Redis
        pytest.fail("Redis is not running on 127.0.0.1:6379")
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()
