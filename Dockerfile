# syntax=docker/dockerfile:1.7
# Two stages: uv resolves and installs into a virtual environment in the first; the second holds
# only Python, that environment and the code, and runs as a numeric non-root user.
FROM python:3.11-slim AS build

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project

FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/app/.venv/bin:$PATH" \
    DATABASE_URL=sqlite+aiosqlite:////data/bot.db
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin bot \
    && mkdir /data && chown 10001:10001 /data
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY alembic.ini ./
COPY bot ./bot
COPY handlers ./handlers
COPY services ./services
COPY storage ./storage
COPY locales ./locales
COPY panel ./panel

USER 10001:10001
# The SQLite file (the default DATABASE_URL points into it); unused with PostgreSQL.
VOLUME ["/data"]
EXPOSE 8080
# Liveness (/livez) on the private METRICS_PORT (127.0.0.1:8081 by default, inside the container);
# python -m bot.healthcheck reads the port from the environment.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]
# SIGTERM stops gracefully: no new updates, accepted ones finish, the delivery round in progress ends.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
