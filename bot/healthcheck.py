"""`python -m bot.healthcheck`: the container's health check. Asks the bot's private HTTP server for
/livez on METRICS_PORT (exit 0: alive; 1: stuck or not answering). With METRICS_PORT=0 there is no
server to ask, and the check passes: the orchestrator then has only the process itself to watch."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4.0


def health_url(env: dict[str, str]) -> str | None:
    port = env.get("METRICS_PORT") or "8081"
    if port == "0":
        return None
    return f"http://127.0.0.1:{port}/livez"


def main() -> int:
    url = health_url(dict(os.environ))
    if url is None:
        return 0
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:
            return 0 if answer.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"health check: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
