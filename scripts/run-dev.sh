#!/usr/bin/env bash
# Serve the portal with Flask's server and run the email worker beside it; stop both together.
set -euo pipefail
# Emailed links point at this server unless configured otherwise.
export PORTAL_BASE_URL="${PORTAL_BASE_URL:-http://127.0.0.1:${PORT:-5000}}"
$FLASK worker &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo "Portal on http://127.0.0.1:${PORT:-5000} — emails are written to instance/mail/ (Ctrl+C to stop)"
# Not `flask run`: its server announces the werkzeug and Python versions (portal/devserver.py).
"${DEV_PYTHON:-.venv/bin/python}" -m portal.devserver --host 127.0.0.1 --port "${PORT:-5000}"
