"""Every validation rule the JARVICE docs state: bad input names the field,
says what would be valid, and nothing is sent."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from pydantic import BaseModel

from jarvice_tools import ACTIONS, JarviceClient, get_action
from jarvice_tools.errors import InvalidParameters
from jarvice_tools.models import JobLinesParams, JobRef, SignalParams
from jarvice_tools.models.base import PATTERN_MESSAGES
from tests.toollayer.support import ScriptedTransport

pytestmark = pytest.mark.anyio

CONTAINER = {"image": "library/ubuntu:jammy", "jobscript": "hostname"}
MACHINE = {"type": "n0", "nodes": 1}

INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("status", {}, "number", "give the job number"),
    ("terminate", {}, "number", "give the job number"),
    ("status", {"number": 12, "name": "x-job_s1"}, "name", "not both"),
    ("status", {"number": 0}, "number", "greater than or equal to 1"),
    ("status", {"number": "twelve"}, "number", "valid integer"),
    ("status", {"name": "has space"}, "name", "name: must not contain spaces"),
    ("pull", {"repo": "me/app latest", "target": "app"}, "repo", "not contain spaces"),
    ("status", {"number": 1, "color": "red"}, "color", "not a parameter"),
    ("tail", {"number": 1, "lines": -1}, "lines", "greater than or equal to 0"),
    ("output", {"number": 1, "lines": -5}, "lines", "greater than or equal to 0"),
    ("signal", {"number": 1, "signal": "SIGTSTP"}, "signal", "SIGTSTP is 20"),
    ("signal", {"number": 1, "signal": "stop"}, "signal", "SIGSTOP is 19"),
    ("signal", {"number": 1, "signal": "hup-ish"}, "signal", "integer signal"),
    ("signal", {"number": 1, "signal": 0}, "signal", "greater than or equal to 1"),
    ("signal", {"number": 1, "signal": True}, "signal", "not true or false"),
    ("signal", {"number": 1, "signal": 9.0}, "signal", "without a decimal point"),
    ("status", {"number": True}, "number", "number: must be a whole number"),
    ("status", {"number": 12.5}, "number", "without a decimal point"),
    ("tail", {"number": 1, "lines": True}, "lines", "not true or false"),
    ("audit", {"lines": False}, "lines", "not true or false"),
    ("screenshot", {"number": 1, "width": 0}, "width", "greater than or equal"),
    ("action", {"number": 1}, "action", "is required"),
    ("appdef", {}, "name", "is required"),
    ("vault", {"path": "/"}, "vault", "is required"),
    ("vault", {"vault": "v", "sort": "x"}, "sort", "must be 'n', 's', 'm'"),
    ("vault", {"vault": "v", "sort": "s"}, "sort", "needs details=true"),
    ("vault", {"vault": "v", "sort": "M"}, "sort", "needs details=true"),
    ("history", {"target": "app", "limit": 0}, "limit", "greater than or equal"),
    ("pull", {"target": "app"}, "repo", "is required"),
    ("build", {}, "target", "is required"),
    ("billing", {"timeperiod": "week"}, "timeperiod", "'last', 'current'"),
    ("billing", {"timeperiod": "range"}, "startdate", "required when"),
    (
        "billing",
        {"timeperiod": "range", "startdate": "2026-01-01"},
        "enddate",
        "required when",
    ),
    (
        "billing",
        {"timeperiod": "range", "startdate": "2026-02-01", "enddate": "2026-01-01"},
        "enddate",
        "not be before startdate",
    ),
    (
        "billing",
        {"timeperiod": "range", "startdate": "01/02/2026", "enddate": "2026-03-01"},
        "startdate",
        "YYYY-MM-DD",
    ),
    ("billing", {"startdate": "2026-01-01"}, "timeperiod", "only with"),
    *[
        (
            "billing",
            {"timeperiod": "range", "startdate": start, "enddate": "2026-03-01"},
            "startdate",
            "must be a date as YYYY-MM-DD",
        )
        for start in ("20260105", "2026-W03-1", 1767225600, "2026-02-30")
    ],
    ("billing", {"statuses": "COMPLETED,RUNNING"}, "statuses.1", "'COMPLETED'"),
    ("audit", {"category": "jobs"}, "category", "'job'"),
    ("queues", {"info": "maybe"}, "info", "valid boolean"),
    ("batch", {"machine": MACHINE}, "container", "is required"),
    (
        "batch",
        {"container": {**CONTAINER, "image": "ubuntu:jammy"}, "machine": MACHINE},
        "container.image",
        "use library/ubuntu:jammy",
    ),
    (
        "batch",
        {"container": {**CONTAINER, "image": "docker.io/ubuntu"}, "machine": MACHINE},
        "container.image",
        "use docker.io/library/ubuntu",
    ),
    (
        "batch",
        {"container": CONTAINER, "machine": {"type": "n0", "nodes": 0}},
        "machine.nodes",
        "greater than or equal to 1",
    ),
    (
        "batch",
        {"container": CONTAINER, "machine": {"type": "n0", "nodes": True}},
        "machine.nodes",
        "not true or false",
    ),
    (
        "batch",
        {"container": CONTAINER, "machine": MACHINE, "hpc": {"hpc_queu": "short"}},
        "hpc.hpc_queu",
        "is not a parameter",
    ),
    (
        "batch",
        {"container": CONTAINER, "machine": MACHINE, "hpc": {"hpc_umask": 1000}},
        "hpc.hpc_umask",
        "less than or equal to 511",
    ),
    (
        "batch",
        {"container": {**CONTAINER, "image": "UBUNTU"}, "machine": MACHINE},
        "container.image",
        "Docker repository names are lower case: use library/ubuntu",
    ),
    (
        "batch",
        {"container": {**CONTAINER, "image": "Me/Tool:V1"}, "machine": MACHINE},
        "container.image",
        "lower case: use me/tool:V1",
    ),
    (
        "batch",
        {"container": CONTAINER, "machine": MACHINE, "job_priority": "urgent"},
        "job_priority",
        "'normal', 'high' or 'highest'",
    ),
    (
        "batch",
        {"container": CONTAINER, "machine": MACHINE, "identity": {"uid": 0}},
        "identity.uid",
        "greater than or equal to 1",
    ),
    (
        "submit",
        {
            "app": "jarvice-ubuntu",
            "application": {"command": "run", "walltime": "2h"},
            "machine": MACHINE,
        },
        "application.walltime",
        "application.walltime: must be HH:MM:SS, for example 02:00:00",
    ),
    (
        "submit",
        {
            "app": "jarvice-ubuntu",
            "application": {"command": "run", "geometry": "1904 by 841"},
            "machine": MACHINE,
        },
        "application.geometry",
        "must be WIDTHxHEIGHT in pixels, for example 1904x841",
    ),
    (
        "batch",
        {"container": CONTAINER, "machine": {"type": "n0/large"}},
        "machine.type",
        "only letters, digits, '.', '_' and '-', for example n0 or ng4",
    ),
    (
        "submit",
        {"app": "jarvice-ubuntu", "machine": MACHINE},
        "application",
        "is required",
    ),
]


@pytest.mark.parametrize(("action", "raw", "field", "fragment"), INVALID)
async def test_invalid_input_names_the_field_and_sends_nothing(
    client: JarviceClient,
    script: ScriptedTransport,
    action: str,
    raw: dict[str, Any],
    field: str,
    fragment: str,
) -> None:
    with pytest.raises(InvalidParameters) as caught:
        await client.run(get_action(action), raw)

    fields = [problem.field for problem in caught.value.problems]
    assert field in fields
    assert fragment in str(caught.value)
    assert "Nothing was sent to JARVICE" in str(caught.value)
    assert "should match pattern" not in str(caught.value)
    assert script.requests == []


def string_patterns(model: type[BaseModel]) -> set[str]:
    """Every `pattern` rule on the model's fields, nested models included."""
    found: set[str] = set()
    for info in model.model_fields.values():
        found |= {rule.pattern for rule in info.metadata if hasattr(rule, "pattern")}
        for inner in typing.get_args(info.annotation) or (info.annotation,):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                found |= string_patterns(inner)
    return found


def test_every_string_pattern_has_a_message_in_words() -> None:
    patterns = set().union(*(string_patterns(a.params) for a in ACTIONS.values()))

    assert len(patterns) >= 4
    assert patterns <= set(PATTERN_MESSAGES)


VALID: list[tuple[str, dict[str, Any]]] = [
    ("status", {"number": 123065}),
    ("status", {"name": "20230901131135-NNW6B-jarvice-batch-me_s1"}),
    ("tail", {"number": 1, "lines": 0}),
    ("signal", {"number": 1, "signal": "18"}),
    ("signal", {"number": "1234", "signal": " 9 "}),
    ("tail", {"number": "1234", "lines": "50"}),
    ("vault", {"vault": "v", "sort": "N"}),
    ("vault", {"vault": "v", "sort": "S", "details": True}),
    ("billing", {"timeperiod": "last", "statuses": ["COMPLETED", "TERMINATED"]}),
    (
        "billing",
        {"timeperiod": "range", "startdate": "2026-01-01", "enddate": "2026-01-01"},
    ),
    ("billing", {"timeperiod": "last", "startdate": None, "enddate": None}),
    ("batch", {"container": {**CONTAINER, "image": "me/tool:1"}, "machine": MACHINE}),
    ("batch", {"container": {**CONTAINER, "image": "quay.io/x/y"}, "machine": MACHINE}),
    (
        "batch",
        {
            "container": {**CONTAINER, "image": "Registry.Example.com:5000/me/t:V1"},
            "machine": {"type": "n0", "nodes": "2"},
        },
    ),
    (
        "batch",
        {
            "container": {**CONTAINER, "image": "library/ubuntu:Jammy"},
            "machine": MACHINE,
        },
    ),
]


@pytest.mark.parametrize(("action", "raw"), VALID)
def test_valid_input_is_accepted(action: str, raw: dict[str, Any]) -> None:
    get_action(action).parse(raw)


def test_numbers_typed_as_text_become_numbers() -> None:
    signal = get_action("signal").parse({"number": "1234", "signal": " 9 "})
    nodes = get_action("batch").parse(
        {"container": CONTAINER, "machine": {"type": "n0", "nodes": "2"}}
    )

    assert (signal.number, signal.signal) == (1234, 9)
    assert nodes.machine.nodes == 2


def test_a_secret_typed_in_a_bad_field_is_not_echoed() -> None:
    secret = "pullsecret-value-that-must-not-leak"
    raw = {
        "container": {"image": "ubuntu", "jobscript": "x", "pullsecret": secret},
        "machine": {"type": "n0", "nodes": "lots"},
    }
    with pytest.raises(InvalidParameters) as caught:
        get_action("batch").parse(raw)

    assert secret not in str(caught.value)
    assert secret not in repr(caught.value.problems)


@pytest.mark.parametrize(
    ("action", "unchecked", "field"),
    [
        ("output", JobLinesParams.model_construct(number=7, lines=-5), "lines"),
        ("status", JobRef.model_construct(number=None, name=None), "number"),
        ("status", JobRef.model_construct(number=7, name="other_s1"), "name"),
        ("signal", SignalParams.model_construct(number=7, signal=0), "signal"),
    ],
    ids=["negative-lines", "no-job", "number-and-name", "signal-0"],
)
async def test_an_unchecked_model_of_the_right_class_is_validated_and_not_sent(
    client: JarviceClient,
    script: ScriptedTransport,
    action: str,
    unchecked: JobRef,
    field: str,
) -> None:
    with pytest.raises(InvalidParameters) as caught:
        await client.run(get_action(action), unchecked)

    assert field in [problem.field for problem in caught.value.problems]
    assert script.requests == []


def test_another_model_is_checked_field_by_field() -> None:
    status = get_action("status")

    assert type(status.parse(JobLinesParams(number=7))) is JobRef
    with pytest.raises(InvalidParameters, match="signal: is not a parameter"):
        status.parse(SignalParams(number=7, signal=9))
