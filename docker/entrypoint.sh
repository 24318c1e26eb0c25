#!/bin/sh
# Entrypoint of the edufilm-mam image: `<role> [extra arguments]`. Every role is a `mam`
# subcommand (tests/prod/test_docker.py checks that each exists).
#
#   web      mam web: gunicorn (gthread) on 0.0.0.0:$PORT (8000)
#            WEB_CONCURRENCY (2) processes x WEB_THREADS (4) threads, WEB_TIMEOUT (120 s)
#   worker   mam worker --no-beat: Celery on the transcode and default queues
#            WORKER_CONCURRENCY (2) parallel jobs, LOGLEVEL (INFO)
#   beat     mam beat (run exactly one in the whole deployment)
#   migrate  mam db upgrade
#   check    mam check: settings, profiles, migrations, templates, translations
#   mam      any other mam command, e.g. `mam users add admin --role admin`
#   healthcheck   used by the image's HEALTHCHECK (GET /healthz on the web role)
#   anything else is executed as is (sh, python, ...)
set -eu

role="${1:-web}"
if [ "$#" -gt 0 ]; then
    shift
fi

# The HEALTHCHECK runs as a separate process; tell it which role this container has.
remember_role() {
    printf '%s\n' "$1" > /tmp/mam-role 2>/dev/null || true
}

case "$role" in
    web)
        remember_role web
        exec mam web --host 0.0.0.0 --port "${PORT:-8000}" \
            --workers "${WEB_CONCURRENCY:-2}" \
            --threads "${WEB_THREADS:-4}" \
            --timeout "${WEB_TIMEOUT:-120}" \
            --worker-tmp-dir /dev/shm \
            "$@"
        ;;
    worker)
        remember_role worker
        exec mam worker --no-beat \
            --concurrency "${WORKER_CONCURRENCY:-2}" \
            --loglevel "${LOGLEVEL:-INFO}" \
            "$@"
        ;;
    beat)
        remember_role beat
        exec mam beat --loglevel "${LOGLEVEL:-INFO}" "$@"
        ;;
    migrate)
        exec mam db upgrade "$@"
        ;;
    check)
        exec mam check "$@"
        ;;
    mam)
        exec mam "$@"
        ;;
    healthcheck)
        if [ "$(cat /tmp/mam-role 2>/dev/null || true)" != web ]; then
            exit 0  # worker/beat: alive while PID 1 is; compose adds a worker ping check
        fi
        exec python -c '
import os, sys, urllib.request
url = "http://127.0.0.1:%s/healthz" % os.environ.get("PORT", "8000")
try:
    with urllib.request.urlopen(url, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:
    print(f"{url}: {exc}", file=sys.stderr)
    sys.exit(1)
'
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
