# syntax=docker/dockerfile:1
# The production image: `make serve`'s commands (compilemessages and collectstatic
# at build, then gunicorn with site_config/gunicorn.conf.py), configured only
# through the environment.
ARG PYTHON_VERSION=3.13

# ---- build: the dependencies in a virtualenv and the compiled translations;
# the tools they need (gettext) stay in this stage.
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
    && apt-get install --yes --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
# psycopg[binary] ships wheels: no compiler or libpq headers needed.
RUN /opt/venv/bin/pip install --requirement /tmp/requirements.txt
# .mo files are not in git (.gitignore): compile them as `make serve` does.
WORKDIR /build
COPY locale locale
RUN /opt/venv/bin/django-admin compilemessages -v0

# ---- runtime
FROM python:${PYTHON_VERSION}-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBUG=0 \
    PORT=8000 \
    WEB_CONCURRENCY=2
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /nonexistent --no-create-home app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# Owned by root and read-only to the app user: the process cannot rewrite its own code.
COPY . .
COPY --from=build /build/locale locale
# Static files are part of the image; the placeholders only let settings load,
# collectstatic reads neither the key nor the hosts.
RUN DEBUG=0 SECRET_KEY=collectstatic-only-not-a-secret ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput -v0

USER app
EXPOSE 8000
# /healthz answers before host validation and the HTTPS redirect (core/health.py).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz\", timeout=4)"]
CMD ["gunicorn", "--config", "site_config/gunicorn.conf.py"]
