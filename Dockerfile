# syntax=docker/dockerfile:1
FROM python:3.12-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir .

FROM python:3.12-slim
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /srv/iqt \
      --shell /usr/sbin/nologin iqt
WORKDIR /srv/iqt
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations ./migrations
# The package is installed (not editable): iqt finds alembic.ini and migrations/ in the working
# directory, so run iqt commands from /srv/iqt.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    IQT_ENVIRONMENT=production \
    IQT_DATABASE_URL=sqlite:////srv/iqt/data/iqt.db \
    IQT_HOST=0.0.0.0 \
    IQT_PORT=8000 \
    IQT_WORKERS=2
RUN mkdir -p /srv/iqt/data && chown iqt:iqt /srv/iqt/data
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('IQT_PORT', '8000')}/_ping\", timeout=2)"]
# `iqt serve` runs the migrations, then uvicorn.
CMD ["sh", "-c", "exec iqt serve --host \"$IQT_HOST\" --port \"$IQT_PORT\" --workers \"$IQT_WORKERS\""]
