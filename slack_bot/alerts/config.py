"""Alert settings, from `ALERTS_*` environment variables (all optional)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AlertSettings"]


class AlertSettings(BaseSettings):
    """How often to poll, how to pace Slack, how long to hold the lease."""

    model_config = SettingsConfigDict(env_prefix="ALERTS_", frozen=True)

    enabled: bool = Field(
        default=True, description="Poll JARVICE and post alerts from this process."
    )
    poll_interval: float = Field(
        default=30.0, gt=0, description="Seconds between two polls of JARVICE."
    )
    catch_up_every: int = Field(
        default=6,
        ge=1,
        description=(
            "Every this many polls, each watched user's completed jobs are read "
            "too, to announce jobs that started and ended between two polls."
        ),
    )
    max_backoff: float = Field(
        default=600.0, gt=0, description="Longest wait between polls while failing."
    )
    lease_seconds: float = Field(
        default=15.0,
        gt=0,
        description=(
            "How long the polling replica's lease lasts; another replica takes "
            "over at most this long (plus a third) after it dies."
        ),
    )
    pace_seconds: float = Field(
        default=1.1, ge=0, description="Least time between two posts to one channel."
    )
    burst: int = Field(
        default=3,
        ge=0,
        description=(
            "This many alerts or more waiting for one channel are posted as one "
            "summary with the alerts in its thread (0: never summarise)."
        ),
    )
    output_lines: int = Field(
        default=10, ge=0, le=50, description="Output lines shown for a failed job."
    )
    retry_cap: float = Field(
        default=300.0, gt=0, description="Longest wait before retrying a Slack call."
    )
    give_up_after: float = Field(
        default=86400.0,
        gt=0,
        description="Stop retrying a message Slack keeps failing after this long.",
    )
    slack_timeout: float = Field(
        default=10.0, gt=0, description="Seconds to wait for one Slack Web API call."
    )
    clock_skew: float = Field(
        default=5.0,
        ge=0,
        description="Allowance for the replicas' clocks disagreeing, in seconds.",
    )

    @property
    def sending_grace(self) -> float:
        """How long a message marked as being sent is left to its sender
        before another one checks Slack for it and, if absent, sends it:
        the lease (the sender may have lost it without knowing), one attempt
        at its longest (a search for an earlier copy, which may open a
        direct message first, within twice the Slack timeout, then the post
        within once), and the clock skew."""
        return self.lease_seconds + 3 * self.slack_timeout + self.clock_skew
