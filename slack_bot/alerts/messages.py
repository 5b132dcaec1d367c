"""Block Kit for alerts: the final alert, the start notice, the summary.

Each builder returns the keyword arguments of a `chat.postMessage` (or
`chat.update`) call, without channel, thread or metadata: the outbox adds
those when it sends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jarvice_tools.models.jobs import JobEntry
from jarvice_tools.summaries import BoundedText
from slack_bot import messages
from slack_bot.alerts import wording
from slack_bot.blocks import (
    RUN_ACTION_ID,
    actions,
    code_block,
    context,
    fields_section,
    run_button,
    section,
)

__all__ = [
    "RUN_ACTION_ID",
    "JobFacts",
    "ended_update",
    "final_alert",
    "notice",
    "started_notice",
    "summary",
]

MAX_SUMMARY_LINES = 20

Payload = dict[str, Any]


@dataclass(frozen=True)
class JobFacts:
    """What an alert says about a job, taken from the watcher's event."""

    number: int
    status: str
    name: str
    app: str | None
    machine: str | None
    nodes: int | None
    walltime: str | None
    label: str | None

    @classmethod
    def of(cls, number: int, job: JobEntry) -> JobFacts:
        return cls(
            number=number,
            status=job.job_status,
            name=job.job_name or str(number),
            app=job.job_application,
            machine=job.machine_type,
            nodes=job.node_count,
            walltime=job.job_walltime,
            label=job.job_label or None,
        )

    @property
    def failed(self) -> bool:
        return self.status != "COMPLETED"


def _fields(facts: JobFacts, owner: str) -> Payload:
    pairs = [
        (wording.FIELD_APP, facts.app or "unknown"),
        (wording.FIELD_MACHINE, wording.machine(facts.machine, facts.nodes)),
        (wording.FIELD_WALLTIME, facts.walltime or "unknown"),
        (wording.FIELD_OWNER, owner),
    ]
    if facts.label:
        pairs.append((wording.FIELD_LABEL, facts.label))
    return fields_section(pairs)


def _buttons(number: int) -> Payload:
    """Buttons that run `/jarvice output` and `/jarvice metrics` for whoever
    clicks them, with that person's own JARVICE account."""
    return actions(
        run_button(wording.BUTTON_OUTPUT, f"output {number} lines=0"),
        run_button(wording.BUTTON_METRICS, f"metrics {number}"),
        block_id=f"jarvice_alert_{number}",
    )


def _output_blocks(output: BoundedText | str | None) -> list[Payload]:
    if output is None:
        return []
    if isinstance(output, str):
        return [section(wording.output_unavailable(output))]
    if not output.text.strip():
        return [section(wording.NO_OUTPUT)]
    blocks = [section(wording.OUTPUT_HEADING), code_block(output.text)]
    if output.truncated:
        cut = messages.alert_output_cut(output.lines_returned, output.lines_total)
        blocks.append(context(cut))
    return blocks


def final_alert(
    facts: JobFacts, *, owner: str, output: BoundedText | str | None
) -> Payload:
    """The alert for a job that ended. `owner` is a mention or a plain name;
    `output` the last lines (failures), the reason they are missing, or None."""
    title = f"{wording.alert_title(facts.number, facts.status)}  `{facts.name}`"
    blocks = [
        section(title),
        _fields(facts, owner),
        *_output_blocks(output),
        _buttons(facts.number),
    ]
    return {
        "text": wording.alert_fallback(facts.number, facts.status, facts.name),
        "blocks": blocks,
        "unfurl_links": False,
    }


def started_notice(facts: JobFacts, *, owner: str) -> Payload:
    """The first message about a job that started running."""
    title = f"{wording.started_title(facts.number)}  `{facts.name}`"
    return {
        "text": wording.started_fallback(facts.number, facts.name),
        "blocks": [
            section(title),
            _fields(facts, owner),
            _buttons(facts.number),
        ],
        "unfurl_links": False,
    }


def ended_update(facts: JobFacts, *, owner: str) -> Payload:
    """The start notice, rewritten once the job has ended (chat.update)."""
    title = wording.ended_title(facts.number, facts.status, facts.walltime)
    return {
        "text": wording.alert_fallback(facts.number, facts.status, facts.name),
        "blocks": [
            section(f"{title}  `{facts.name}`"),
            _fields(facts, owner),
            _buttons(facts.number),
        ],
    }


def summary(members: Sequence[JobFacts]) -> Payload:
    """One channel message standing for many alerts (kept in its thread)."""
    tally = sorted(Counter(m.status for m in members).items())
    lines = [
        wording.summary_line(m.number, m.status, m.name)
        for m in members[:MAX_SUMMARY_LINES]
    ]
    if len(members) > MAX_SUMMARY_LINES:
        lines.append(wording.summary_more(len(members) - MAX_SUMMARY_LINES))
    return {
        "text": wording.summary_fallback(len(members)),
        "blocks": [
            section(wording.summary_title(len(members), tally)),
            section("\n".join(lines)),
        ],
        "unfurl_links": False,
    }


def notice(text: str) -> Payload:
    """A plain message (to an administrator)."""
    return {"text": text, "unfurl_links": False}
