"""Turning `DATABASE_URL` into an SQLAlchemy URL with an async driver.

Accepted forms: a plain file path (SQLite), `sqlite:///path`, and
`postgresql://...` or `postgresql+psycopg://...` (PostgreSQL through psycopg
3). Whatever driver a URL names, the store uses the async one of its
database: aiosqlite for SQLite, psycopg's async mode for PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["DEFAULT_DATABASE_FILE", "database_url", "display_url"]

DEFAULT_DATABASE_FILE = "jarvice-slack.sqlite3"
"""The SQLite file used when `DATABASE_URL` is not set (in the working dir)."""

_SQLITE = "sqlite+aiosqlite"
_POSTGRES = "postgresql+psycopg"
_POSTGRES_NAMES = ("postgres", "postgresql")


def database_url(raw: str | None = None) -> URL:
    """The async SQLAlchemy URL for a `DATABASE_URL` value (None or empty:
    the default SQLite file). Raises ValueError saying what is accepted."""
    text = (raw or "").strip() or DEFAULT_DATABASE_FILE
    if "://" not in text:
        return URL.create(_SQLITE, database=str(Path(text).expanduser().resolve()))
    try:
        url = make_url(text)
    except ArgumentError:
        raise ValueError(_unsupported(text)) from None

    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError(
                "an in-memory SQLite database would lose every link and alert "
                "at restart; give a file path, e.g. sqlite:///var/lib/jarvice/"
                "slack.sqlite3"
            )
        return url.set(drivername=_SQLITE)
    if backend in _POSTGRES_NAMES:
        if not url.database:
            raise ValueError(
                "name the database in the URL, e.g. "
                "postgresql+psycopg://user:password@host:5432/jarvice"
            )
        return url.set(drivername=_POSTGRES)
    raise ValueError(_unsupported(text))


def display_url(url: URL | str) -> str:
    """The URL with its password masked, for logs and messages."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return "(unreadable URL)"
    return url.render_as_string(hide_password=True)


def _unsupported(text: str) -> str:
    shown = display_url(text) if "://" in text else text
    return (
        f"{shown} is not a supported database URL; use a file path or "
        "sqlite:///path for SQLite, or postgresql+psycopg://user@host/db "
        "for PostgreSQL"
    )
