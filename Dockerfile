# One image for every service of docker-compose.yml: web (gunicorn), worker, beat, migrate.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=wuhan_pdr.settings.local \
    PORT=8000

# gettext: compilemessages needs msgfmt. postgresql-client-15: pg_dump / pg_restore of the same
# major version as the server, for `manage.py backup` and the restore drills (Debian bookworm
# ships 15).
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir "uv>=0.13,<0.14"

WORKDIR /app

# Dependencies first, from the lock file only, so that a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --python python3.11 --no-install-project

COPY . .

# Translations and static files are built into the image. collectstatic needs settings but no
# database; the secret below exists only during this build step.
RUN DJANGO_SECRET_KEY=build-time-only-dummy-secret-not-used-at-run-time-0123456789 sh -c '\
      if ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
        python manage.py compilemessages --ignore=.venv --ignore=var; fi \
   && python manage.py collectstatic --noinput --verbosity 0'

RUN useradd --system --uid 10001 --home-dir /app app \
 && mkdir -p /app/var/media /app/var/backups /app/var/ledger-heads \
 && chown -R app:app /app/var
USER app

EXPOSE 8000
# --no-control-socket: gunicorn 27 would otherwise open a control socket under $HOME.
CMD ["sh", "-c", "exec gunicorn wuhan_pdr.wsgi --bind 0.0.0.0:${PORT} --workers 2 --access-logfile - --no-control-socket"]
