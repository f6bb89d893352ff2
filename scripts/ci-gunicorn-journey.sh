#!/usr/bin/env bash
# CI: the portal under gunicorn (3 workers) on PostgreSQL with Redis rate limits and the email
# worker, driven over HTTP: register → confirm by email → log in → apply with a PDF → /me.
# Needs PostgreSQL and Redis on 127.0.0.1 (PORTAL_JOURNEY_POSTGRES_URL, PORTAL_JOURNEY_REDIS_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${BIN:-.venv/bin}/python" bench/journey.py "$@"
