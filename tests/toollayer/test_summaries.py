from __future__ import annotations

import pytest

from jarvice_tools.models import JobEntry, JobStatus
from jarvice_tools.summaries import JobSummary, bound_text


def test_job_summary_takes_machine_and_nodes_from_the_submission() -> None:
    entry = JobEntry(
        job_name="n",
        job_status="PROCESSING STARTING",
        job_start_time=1000,
        job_api_submission={"machine": {"type": "ng4", "nodes": "2"}},
        job_substatus_text="Suspended by user",
        job_owner_username="bob",
    )

    summary = JobSummary.of(5, entry, now=1000 + 3725)

    assert (summary.machine_type, summary.nodes) == ("ng4", 2)
    assert summary.run_time == "1h 02m"
    assert summary.substatus == "Suspended by user"
    assert summary.started == "1970-01-01T00:16:40Z"
    assert summary.ended is None
    assert not summary.final


def test_a_queued_job_has_no_run_time() -> None:
    job = JobStatus(job_name="n", job_status="SUBMITTED", job_submit_time=5)

    summary = JobSummary.of(1, job, now=100)

    assert summary.run_time is None
    assert summary.owner is None


@pytest.mark.parametrize(
    ("text", "max_lines", "max_bytes", "kept", "truncated"),
    [
        ("a\nb\nc\nd", 2, 100, "c\nd", True),
        ("a\nb", 5, 100, "a\nb", False),
        ("aaaa\nbbbb\ncccc", 10, 10, "bbbb\ncccc", True),
        ("x" * 50, 5, 10, "x" * 10, True),
        ("", 5, 10, "", False),
    ],
)
def test_bound_text_keeps_the_end(
    text: str, max_lines: int, max_bytes: int, kept: str, truncated: bool
) -> None:
    bounded = bound_text(text, max_lines=max_lines, max_bytes=max_bytes)

    assert bounded.text == kept
    assert bounded.truncated is truncated
    assert (bounded.note is not None) is truncated
    assert len(bounded.text.encode()) <= max_bytes
