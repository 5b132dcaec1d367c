import asyncio
import datetime as dt

import pytest

from slack_bot.store import Store, Verdict, utcnow

pytestmark = pytest.mark.anyio


async def _card(store: Store, *, ttl: float = 300.0) -> str:
    pending = await store.confirmations.create(
        slack_user_id="U1",
        jarvice_username="alice",
        action="terminate",
        arguments={"number": 42},
        fingerprint="f" * 64,
        summary="Terminate job 42?",
        ttl=ttl,
        channel_id="C1",
    )
    return pending.id


async def test_the_asker_confirms_once_and_a_second_click_finds_it_decided(
    store: Store,
) -> None:
    card = await _card(store)
    first = await store.confirmations.decide(card, slack_user_id="U1", confirm=True)
    assert first.verdict is Verdict.CONFIRMED
    assert first.won
    assert first.pending is not None
    assert first.pending.arguments == {"number": 42}
    second = await store.confirmations.decide(card, slack_user_id="U1", confirm=True)
    assert second.verdict is Verdict.ALREADY_DECIDED
    assert not second.won


async def test_another_user_cannot_confirm_or_cancel(store: Store) -> None:
    card = await _card(store)
    for confirm in (True, False):
        decision = await store.confirmations.decide(
            card, slack_user_id="U2", confirm=confirm
        )
        assert decision.verdict is Verdict.NOT_YOURS
    assert (await store.confirmations.get(card)).state == "pending"  # type: ignore[union-attr]


async def test_an_expired_card_cannot_be_confirmed(store: Store) -> None:
    card = await _card(store, ttl=60)
    later = utcnow() + dt.timedelta(seconds=61)
    decision = await store.confirmations.decide(
        card, slack_user_id="U1", confirm=True, now=later
    )
    assert decision.verdict is Verdict.EXPIRED


async def test_a_cancelled_card_cannot_be_confirmed_afterwards(store: Store) -> None:
    card = await _card(store)
    cancel = await store.confirmations.decide(card, slack_user_id="U1", confirm=False)
    assert cancel.verdict is Verdict.CANCELLED
    again = await store.confirmations.decide(card, slack_user_id="U1", confirm=True)
    assert again.verdict is Verdict.ALREADY_DECIDED


async def test_an_unknown_card_is_not_found(store: Store) -> None:
    decision = await store.confirmations.decide(
        "nope", slack_user_id="U1", confirm=True
    )
    assert decision.verdict is Verdict.NOT_FOUND
    assert decision.pending is None


async def test_of_many_simultaneous_clicks_exactly_one_wins(
    store: Store, database_url: str
) -> None:
    card = await _card(store)
    async with await Store.open(database_url) as replica:
        clicks = [
            where.confirmations.decide(card, slack_user_id="U1", confirm=True)
            for where in (store, replica) * 4
        ]
        decisions = await asyncio.gather(*clicks)
    assert sum(decision.won for decision in decisions) == 1


async def test_purge_removes_only_long_expired_cards(store: Store) -> None:
    old = await _card(store, ttl=-3600)
    fresh = await _card(store)
    assert await store.confirmations.purge(older_than=dt.timedelta(minutes=30)) == 1
    assert await store.confirmations.get(old) is None
    assert await store.confirmations.get(fresh) is not None
