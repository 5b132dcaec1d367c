import pytest

from slack_bot.store import AuditEntry, Store

pytestmark = pytest.mark.anyio


async def test_entries_come_back_newest_first_and_filtered(store: Store) -> None:
    for user, action in (("U1", "status"), ("U2", "terminate"), ("U1", "tail")):
        await store.audit.record(
            AuditEntry(
                kind="command",
                slack_user_id=user,
                action=action,
                outcome="ok",
                arguments="number=42",
                jarvice_username="alice",
            )
        )
    newest = await store.audit.recent(limit=2)
    assert [entry.action for entry in newest] == ["tail", "terminate"]
    mine = await store.audit.recent(slack_user_id="U1")
    assert [entry.action for entry in mine] == ["tail", "status"]
    kills = await store.audit.recent(action="terminate")
    assert [(entry.slack_user_id, entry.arguments) for entry in kills] == [
        ("U2", "number=42")
    ]
    assert all(entry.at.tzinfo is not None for entry in newest)


async def test_a_signature_is_accepted_once(store: Store, database_url: str) -> None:
    assert await store.replays.first_sighting("1700000000", "v0=abc") is True
    assert await store.replays.first_sighting("1700000000", "v0=abc") is False
    assert await store.replays.first_sighting("1700000001", "v0=abc") is True
    async with await Store.open(database_url) as replica:
        assert await replica.replays.first_sighting("1700000000", "v0=abc") is False
