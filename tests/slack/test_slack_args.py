"""Command text to parameters, from the parameter models alone."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from jarvice_tools.actions import ACTIONS
from jarvice_tools.models import BatchParams
from slack_bot.args import (
    ArgumentError,
    describe_arguments,
    parse_action_arguments,
    split_words,
)


@pytest.mark.parametrize(
    ("action", "text", "expected"),
    [
        ("status", "1234", {"number": 1234}),
        ("status", "#1234", {"number": 1234}),
        ("status", "20230901-x_s1", {"name": "20230901-x_s1"}),
        ("tail", "1234 lines=50", {"number": 1234, "lines": 50}),
        ("jobs", "completed", {"completed": True}),
        ("jobs", "completed=false", {"completed": False}),
        ("vault", "myvault path=/ details=true", {"vault": "myvault", "details": True}),
        ("vault", "myvault /results", {"vault": "myvault", "path": "/results"}),
        ("signal", "5 18", {"number": 5, "signal": 18}),
        ("action", "5 restart", {"number": 5, "action": "restart"}),
        (
            "pull",
            "docker.io/me/x me-app",
            {"repo": "docker.io/me/x", "target": "me-app"},
        ),
        ("apps", "jarvice-ubuntu", {"name": "jarvice-ubuntu"}),
        ("history", "alice-myapp limit=3", {"target": "alice-myapp", "limit": 3}),
        ("validate", 'appdef=\'{"name": "x"}\'', {"appdef": {"name": "x"}}),
        (
            "billing",
            "statuses='COMPLETED,TERMINATED' machtypes=n0,n3",
            {"statuses": ["COMPLETED", "TERMINATED"], "machtypes": ["n0", "n3"]},
        ),
        (
            "tail",
            "\u201c1234\u201d lines=\u201850\u2019",
            {"number": 1234, "lines": 50},
        ),
    ],
)
def test_words_become_parameters(
    action: str, text: str, expected: dict[str, object]
) -> None:
    params = parse_action_arguments(ACTIONS[action], text)
    dumped = params.model_dump(exclude_defaults=True)
    assert {k: dumped.get(k, getattr(params, k)) for k in expected} == expected


def test_nested_fields_take_dotted_keys() -> None:
    params = parse_action_arguments(
        ACTIONS["batch"],
        "container.image=library/ubuntu container.jobscript='echo hi there' "
        "machine.type=n3 machine.nodes=2 vault.name=v vault.objects=a,b",
    )
    assert isinstance(params, BatchParams)
    assert params.container.jobscript == "echo hi there"
    assert (params.machine.type, params.machine.nodes) == ("n3", 2)
    assert params.vault is not None
    assert params.vault.objects == ["a", "b"]


def test_app_parameters_are_reached_by_key() -> None:
    params = parse_action_arguments(
        ACTIONS["submit"],
        "app=x application.command=run application.parameters.count=8 machine.type=n0",
    )
    assert params.application.parameters == {"count": "8"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("action", "text", "field", "says"),
    [
        ("tail", "1 lnes=5", "lnes", "did you mean lines?"),
        ("status", "1 2", "values", "one value too many"),
        ("jobs", "yes", "values", "takes no values without a name"),
        ("status", "number=1 number=2", "number", "more than once"),
        ("validate", "appdef=[1]", "appdef", "must be a JSON object"),
        ("status", "", "number", "give the job number"),
        ("batch", "machine.type=n0", "container", "is required"),
    ],
)
def test_bad_words_name_the_field(
    action: str, text: str, field: str, says: str
) -> None:
    with pytest.raises(ArgumentError) as caught:
        parse_action_arguments(ACTIONS[action], text)
    problems = {p.field: p.message for p in caught.value.problems}
    assert says in problems[field]


def test_slack_escapes_are_undone() -> None:
    words = split_words("name=a&amp;b x=&lt;1&gt;")
    assert words.named == {"name": "a&b", "x": "<1>"}


def test_audit_arguments_mask_secrets_and_keep_unparsed_values_out() -> None:
    params = BatchParams.model_validate(
        {
            "container": {
                "image": "me/x",
                "jobscript": "run",
                "pullsecret": SecretStr("registry-secret"),
            },
            "machine": {"type": "n0"},
        }
    )
    described = describe_arguments(params)
    assert "registry-secret" not in described
    assert "container.pullsecret=***" in described
    unparsed = describe_arguments(None, "status apikey=hunter2 stray")
    assert "hunter2" not in unparsed
    assert "stray" not in unparsed
    assert "apikey=" in unparsed
