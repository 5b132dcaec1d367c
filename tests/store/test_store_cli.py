"""`python -m slack_bot.store`, the migration command the chart's hook Job
runs: an unreachable database is one readable line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.deploy.support import free_port


def test_the_migration_command_says_in_one_line_when_the_database_is_down() -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://jarvice:s3cret@127.0.0.1:{port}/jarvice"
    done = subprocess.run(
        [sys.executable, "-m", "slack_bot.store", "upgrade"],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith(
        f"The database at postgresql+psycopg://jarvice:***@127.0.0.1:{port}/"
    )
    assert "Check DATABASE_URL" in line
    assert "s3cret" not in done.stderr
    assert done.stdout == ""
