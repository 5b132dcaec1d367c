from __future__ import annotations

from typing import Any

import pytest

from jarvice_tools.appdefs import check_submission
from jarvice_tools.models import AppDef

APPDEF = AppDef.model_validate(
    {
        "name": "Demo",
        "commands": {
            "run": {
                "path": "/run.sh",
                "name": "Run",
                "description": "d",
                "parameters": {
                    "mode": {"type": "CONST", "value": "-fast"},
                    "label": {"type": "STR", "required": True},
                    "count": {"type": "INT", "min": 1, "max": 8, "value": 2},
                    "ratio": {"type": "FLOAT", "min": 0, "max": 1, "precision": 2},
                    "size": {"type": "RANGE", "min": 10, "max": 50, "step": 10},
                    "verbose": {"type": "BOOL", "value": False},
                    "solver": {"type": "selection", "values": ["cg", "gmres"]},
                    "input": {"type": "FILE", "filter": "*.dat|*.csv"},
                    "upload": {
                        "type": "UPLOAD",
                        "target": "/data/in",
                        "filter": "*.yaml",
                        "size": 10,
                    },
                },
            }
        },
    }
)


def test_good_values_come_back_typed() -> None:
    raw = {
        "label": "x",
        "count": "4",
        "ratio": "0.25",
        "size": "30",
        "verbose": "true",
        "solver": "gmres",
        "input": "/data/a.csv",
        "upload": "a: 1\nb: 2\n",
    }

    checked = check_submission(APPDEF, "run", raw)

    assert checked.ok
    assert checked.values == {
        "label": "x",
        "count": 4,
        "ratio": 0.25,
        "size": 30,
        "verbose": True,
        "solver": "gmres",
        "input": "/data/a.csv",
        "upload": "a: 1\nb: 2\n",
    }


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({}, "label", "is required"),
        ({"label": "x", "count": "9"}, "count", "must be from 1 to 8"),
        ({"label": "x", "count": "2.5"}, "count", "whole number"),
        ({"label": "x", "ratio": "0.125"}, "ratio", "at most 2 decimal places"),
        ({"label": "x", "size": "35"}, "size", "multiple of 10"),
        ({"label": "x", "verbose": "perhaps"}, "verbose", "true or false"),
        ({"label": "x", "solver": "lu"}, "solver", "one of: cg, gmres"),
        ({"label": "x", "input": "a.txt"}, "input", "must match *.dat|*.csv"),
        ({"label": "x", "upload": "é" * 6}, "upload", "at most 10 bytes"),
        ({"label": "x", "mode": "-slow"}, "mode", "fixed by the application"),
        ({"label": "x", "colour": "red"}, "colour", "not a parameter"),
    ],
)
def test_bad_values_name_the_parameter(
    raw: dict[str, Any], field: str, message: str
) -> None:
    checked = check_submission(APPDEF, "run", raw)

    problems = {p.field: p.message for p in checked.problems}
    assert message in problems[f"application.parameters.{field}"]


def test_an_unknown_command_lists_the_valid_ones() -> None:
    checked = check_submission(APPDEF, "walk", {})

    assert [str(p) for p in checked.problems] == [
        "application.command: 'walk' is not a command; valid: run"
    ]
