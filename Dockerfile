# Small image running the bot with uv-managed dependencies, as a non-root user.
FROM python:3.11-slim AS base

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY alembic.ini ./
COPY bot ./bot
COPY handlers ./handlers
COPY services ./services
COPY storage ./storage
COPY locales ./locales

RUN useradd --create-home --uid 10001 bot && mkdir -p /app/data && chown bot /app/data
USER bot

ENV PATH="/app/.venv/bin:$PATH" \
    DATABASE_URL=sqlite+aiosqlite:////app/data/bot.db
EXPOSE 8080
# /healthz answers 200 when the database (and Redis, if set) is reachable, 503 otherwise. It is served
# on METRICS_HOST:METRICS_PORT (127.0.0.1:8081 by default, inside the container), not on the public port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"METRICS_PORT\", \"8081\")}/healthz', timeout=4)"
# SIGTERM stops gracefully: no new updates, accepted ones finish, the delivery round in progress ends.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
