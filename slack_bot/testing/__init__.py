"""Test helpers shipped with the Slack app: a fake Slack Web API, channel
history kept on it, and signed requests. Tests, benchmarks and demos import
them; the app itself never does."""

from slack_bot.testing.block_kit import message_problems, view_problems
from slack_bot.testing.fake_slack import Call, Failure, FakeSlack
from slack_bot.testing.history import ChannelHistory
from slack_bot.testing.requests import (
    SignedRequest,
    SlackRequests,
    checkbox,
    selected,
    typed,
)

__all__ = [
    "Call",
    "ChannelHistory",
    "Failure",
    "FakeSlack",
    "SignedRequest",
    "SlackRequests",
    "checkbox",
    "message_problems",
    "selected",
    "typed",
    "view_problems",
]
