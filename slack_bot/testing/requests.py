"""Signed Slack requests, as Slack sends them, for tests and benchmarks.

    requests = SlackRequests("signing-secret", responses=fake_slack)
    request = requests.command("status 42", user="U1")
    response = await bot.app.async_dispatch(request.bolt())   # in-process
    httpx.post(f"{url}/slack/events", content=request.body,
               headers=request.headers)                       # over HTTP

Slash commands are form fields; button clicks and form submissions are one
`payload` form field holding JSON. Each request is signed with the secret
and a timestamp (now, unless given), so `stale`/`unsigned` variants are a
keyword away.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

__all__ = ["SignedRequest", "SlackRequests", "checkbox", "selected", "typed"]


class _ResponseUrls(Protocol):
    def response_url(self, name: str = "cmd") -> str: ...


@dataclass(frozen=True)
class SignedRequest:
    body: str
    headers: dict[str, str]
    response_name: str | None = None
    """The name of its response_url at the fake (see FakeSlack.responses)."""

    def bolt(self) -> AsyncBoltRequest:
        """The request for `AsyncApp.async_dispatch`."""
        return AsyncBoltRequest(
            body=self.body,
            headers={key.lower(): [value] for key, value in self.headers.items()},
        )


class SlackRequests:
    """Makes signed slash commands, button clicks and form submissions."""

    def __init__(
        self,
        signing_secret: str,
        *,
        responses: _ResponseUrls | None = None,
        team_id: str = "T0001",
        channel_id: str = "C0001",
    ) -> None:
        self.signing_secret = signing_secret
        self.responses = responses
        self.team_id = team_id
        self.channel_id = channel_id
        self._ids = itertools.count(1)

    def sign(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        verifier = SignatureVerifier(secret or self.signing_secret)
        signature = str(verifier.generate_signature(timestamp=stamp, body=body))
        return {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }

    def command(
        self,
        text: str,
        *,
        user: str = "U0001",
        channel: str | None = None,
        command: str = "/jarvice",
        timestamp: int | None = None,
        secret: str | None = None,
        signed: bool = True,
    ) -> SignedRequest:
        """A slash command, with a response_url at the fake and a trigger id."""
        name = f"cmd{next(self._ids)}"
        fields = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": "fake",
            "channel_id": channel or self.channel_id,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "AFAKE",
            "response_url": self._response_url(name),
            "trigger_id": f"trigger-{name}",
        }
        body = urllib.parse.urlencode(fields)
        return self._signed(body, name, timestamp, secret, signed)

    def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "U0001",
        channel: str | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> SignedRequest:
        """A button click (block_actions) on a message."""
        name = f"click{next(self._ids)}"
        payload = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "team_id": self.team_id},
            "api_app_id": "AFAKE",
            "container": {"type": "message", "message_ts": "1700000000.000100"},
            "trigger_id": f"trigger-{name}",
            "channel": {"id": channel or self.channel_id, "name": "general"},
            "response_url": self._response_url(name),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "action_ts": str(time.time()),
                }
            ],
        }
        return self._payload(payload, name, timestamp, secret)

    def submission(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        *,
        user: str = "U0001",
        private_metadata: str = "",
        view_id: str = "V000001",
        timestamp: int | None = None,
    ) -> SignedRequest:
        """A modal's view_submission; `values` is block_id -> element state
        (see `typed`, `selected` and `checkbox`)."""
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "team_id": self.team_id},
            "api_app_id": "AFAKE",
            "trigger_id": "trigger-view",
            "view": {
                "id": view_id,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "hash": "h1",
                "state": {"values": values},
            },
        }
        return self._payload(payload, None, timestamp, None)

    def _payload(
        self,
        payload: dict[str, Any],
        name: str | None,
        timestamp: int | None,
        secret: str | None,
    ) -> SignedRequest:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self._signed(body, name, timestamp, secret, True)

    def _signed(
        self,
        body: str,
        name: str | None,
        timestamp: int | None,
        secret: str | None,
        signed: bool,
    ) -> SignedRequest:
        if not signed:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        else:
            headers = self.sign(body, timestamp=timestamp, secret=secret)
        return SignedRequest(body=body, headers=headers, response_name=name)

    def _response_url(self, name: str) -> str:
        if self.responses is None:
            return f"http://127.0.0.1:9/respond/{name}"
        return self.responses.response_url(name)


def typed(value: str | None) -> dict[str, Any]:
    """A text input's state."""
    return {"value": {"type": "plain_text_input", "value": value}}


def selected(value: str | None) -> dict[str, Any]:
    """A static select's state."""
    option = None if value is None else {"value": value, "text": {"text": value}}
    return {"value": {"type": "static_select", "selected_option": option}}


def checkbox(checked: bool) -> dict[str, Any]:
    options = [{"value": "true"}] if checked else []
    return {"value": {"type": "checkboxes", "selected_options": options}}
