import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from pydantic import SecretStr

from jarvice_tools.settings import Credentials
from slack_bot.store import KeyBox, Store, UnreadableSecret

pytestmark = pytest.mark.anyio

KEY = "0123456789abcdef-not-a-real-key"


async def test_a_link_gives_back_the_credentials_it_was_saved_with(
    store: Store,
) -> None:
    await store.links.save(
        "U1", Credentials(username="alice", apikey=SecretStr(KEY)), slack_team_id="T1"
    )
    found = await store.links.credentials("U1")
    assert found is not None
    assert found.username == "alice"
    assert found.apikey.get_secret_value() == KEY
    link = await store.links.get("U1")
    assert link is not None
    assert (link.jarvice_username, link.slack_team_id) == ("alice", "T1")
    assert link.linked_at.tzinfo is not None


async def test_the_api_key_is_never_stored_in_clear(store: Store) -> None:
    await store.links.save("U1", Credentials(username="alice", apikey=SecretStr(KEY)))
    async with store.engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT * FROM slack_links"))).all()
    assert rows
    for row in rows:
        for value in row:
            assert KEY not in str(value)


async def test_relinking_replaces_the_user_and_key_but_keeps_the_first_link_time(
    store: Store,
) -> None:
    first = await store.links.save(
        "U1", Credentials(username="alice", apikey=SecretStr(KEY))
    )
    second = await store.links.save(
        "U1", Credentials(username="bob", apikey=SecretStr("other-key"))
    )
    assert second.jarvice_username == "bob"
    assert second.linked_at == first.linked_at
    assert second.updated_at >= first.updated_at
    found = await store.links.credentials("U1")
    assert found is not None
    assert found.apikey.get_secret_value() == "other-key"
    assert [link.slack_user_id for link in await store.links.all()] == ["U1"]


async def test_unlinking_forgets_the_user(store: Store) -> None:
    await store.links.save("U1", Credentials(username="alice", apikey=SecretStr(KEY)))
    assert await store.links.remove("U1") is True
    assert await store.links.credentials("U1") is None
    assert await store.links.remove("U1") is False


async def test_links_are_found_by_jarvice_user(store: Store) -> None:
    for user, name in (("U2", "alice"), ("U1", "alice"), ("U3", "bob")):
        await store.links.save(user, Credentials(username=name, apikey=SecretStr(KEY)))
    found = await store.links.for_jarvice_user("alice")
    assert [link.slack_user_id for link in found] == ["U1", "U2"]


async def test_a_key_sealed_with_another_encryption_key_is_refused(
    store: Store, database_url: str
) -> None:
    await store.links.save("U1", Credentials(username="alice", apikey=SecretStr(KEY)))
    other = KeyBox(Fernet.generate_key().decode())
    async with await Store.open(database_url, keys=other) as elsewhere:
        with pytest.raises(UnreadableSecret, match="JARVICE_TOOLS_ENCRYPTION_KEY"):
            await elsewhere.links.credentials("U1")


async def test_a_rotated_key_still_opens_what_the_old_key_sealed(
    database_url: str,
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    async with await Store.open(database_url, keys=KeyBox(old)) as before:
        await before.links.save(
            "U1", Credentials(username="alice", apikey=SecretStr(KEY))
        )
    async with await Store.open(database_url, keys=KeyBox(f"{new},{old}")) as after:
        found = await after.links.credentials("U1")
    assert found is not None
    assert found.apikey.get_secret_value() == KEY


def test_a_malformed_encryption_key_is_refused_with_how_to_make_one() -> None:
    with pytest.raises(ValueError, match="generate_key"):
        KeyBox("not-a-fernet-key")
    with pytest.raises(ValueError, match="empty"):
        KeyBox(" ")
