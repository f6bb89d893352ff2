#!/usr/bin/env bash
# Serve the portal under gunicorn (gunicorn.conf.py) with the email worker beside it; stop both together.
# Environment: PORT (default 8000), WEB_CONCURRENCY, GUNICORN_THREADS, PORTAL_* (see docs/deploy.md).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.venv/bin}"

"$BIN/flask" --app portal worker &
worker=$!
gunicorn_pid=""
stop() {
  trap - EXIT INT TERM
  [ -n "$gunicorn_pid" ] && kill -TERM "$gunicorn_pid" 2>/dev/null || true
  kill -TERM "$worker" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

echo "Portal under gunicorn on http://${HOST:-127.0.0.1}:${PORT:-8000} with the email worker (Ctrl+C to stop)"
"$BIN/gunicorn" -c gunicorn.conf.py &
gunicorn_pid=$!
# Whichever stops first (gunicorn or the worker) stops the other.
wait -n "$gunicorn_pid" "$worker" || true
