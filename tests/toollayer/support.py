"""Test helpers for the tool layer: a scripted transport that answers
requests from a list and fails loudly on anything unplanned."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

API_URL = "https://jarvice.test/api"
APIKEY = "0123456789abcdef0123456789abcdef01234567"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass
class ScriptedTransport:
    """Answers requests from a list, in order, and records them. A request
    with no planned answer fails the test."""

    answers: list[Answer] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def plan(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.answers:
            pytest.fail(f"unplanned request: {request.method} {request.url.path}")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


def json_answer(data: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=data)


def status_answer(number: int, status: str, **extra: object) -> httpx.Response:
    job = {
        "job_name": f"20261203120000-ABCDE-jarvice-batch-alice_s{number}",
        "job_status": status,
        "job_substatus": 0,
        "job_submit_time": 1764763200,
        "job_start_time": 1764763205 if status != "SUBMITTED" else 0,
        "job_end_time": 0,
        "job_application": "jarvice-batch",
        "job_command": "Batch",
        "job_walltime": None,
        "job_project": None,
        **extra,
    }
    return json_answer({str(number): job})


def text_answer(body: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, text=body, headers={"Content-Type": "text/plain"})
