"""Container health check: exit 0 when the service answers its health route.

Docker's HEALTHCHECK runs this inside the container (the image has no curl).
It GETs `HEALTHCHECK_URL` (default http://127.0.0.1:8000/health) and exits 0
on a 2xx answer within `HEALTHCHECK_TIMEOUT` seconds (default 3), 1 otherwise,
printing one line that says why.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/health"


def check(url: str, timeout: float) -> tuple[bool, str]:
    """Whether `url` answers 2xx, and a one-line reason."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        return False, f"{url} answered {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return False, f"{url} did not answer: {error}"
    return 200 <= status < 300, f"{url} answered {status}"


def main() -> int:
    url = os.environ.get("HEALTHCHECK_URL", DEFAULT_URL)
    timeout = float(os.environ.get("HEALTHCHECK_TIMEOUT", "3"))
    healthy, reason = check(url, timeout)
    sys.stdout.write(reason + "\n")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
