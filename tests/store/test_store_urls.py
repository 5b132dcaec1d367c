from pathlib import Path

import pytest

from slack_bot.store import DEFAULT_DATABASE_FILE, database_url, display_url


def test_unset_url_is_the_default_sqlite_file_in_the_working_directory() -> None:
    url = database_url(None)
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == str(Path(DEFAULT_DATABASE_FILE).resolve())


@pytest.mark.parametrize(
    ("given", "driver", "database"),
    [
        ("/var/lib/jt/slack.db", "sqlite+aiosqlite", "/var/lib/jt/slack.db"),
        ("sqlite:////var/lib/jt/slack.db", "sqlite+aiosqlite", "/var/lib/jt/slack.db"),
        ("sqlite+pysqlite:///rel.db", "sqlite+aiosqlite", "rel.db"),
        ("postgresql://u:p@db:5432/jt", "postgresql+psycopg", "jt"),
        ("postgres://u@db/jt", "postgresql+psycopg", "jt"),
        ("postgresql+psycopg2://u@db/jt", "postgresql+psycopg", "jt"),
        ("postgresql+psycopg://u@db/jt?sslmode=require", "postgresql+psycopg", "jt"),
    ],
)
def test_database_urls_get_the_async_driver_of_their_database(
    given: str, driver: str, database: str
) -> None:
    url = database_url(given)
    assert (url.drivername, url.database) == (driver, database)


def test_query_options_survive_normalisation() -> None:
    url = database_url("postgresql://u@db/jt?sslmode=require")
    assert url.query == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("mysql://u@db/jt", "not a supported database URL"),
        ("sqlite://", "in-memory SQLite"),
        ("postgresql://u@db", "name the database"),
    ],
)
def test_unusable_urls_are_refused_with_what_would_work(given: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        database_url(given)


def test_passwords_are_masked_in_messages() -> None:
    with pytest.raises(ValueError, match="not a supported") as caught:
        database_url("mysql://user:hunter2@db/jt")
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in display_url("postgresql://user:hunter2@db/jt")
