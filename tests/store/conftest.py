"""Fixtures for the store's tests: an open store on each database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet

from slack_bot.store import KeyBox, Store


@pytest.fixture
def keys() -> KeyBox:
    return KeyBox(Fernet.generate_key().decode())


@pytest.fixture
async def store(database_url: str, keys: KeyBox) -> AsyncIterator[Store]:
    opened = await Store.open(database_url, keys=keys)
    try:
        yield opened
    finally:
        await opened.close()
