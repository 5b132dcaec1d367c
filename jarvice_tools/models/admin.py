"""Team, project, queue and billing shapes (mostly admin endpoints)."""

from __future__ import annotations

import csv
import io

from pydantic import BaseModel, Field, RootModel

from jarvice_tools.models.base import ApiModel

__all__ = [
    "BillingReport",
    "Projects",
    "QueueInfo",
    "Queues",
    "TeamUser",
    "TeamUsers",
]


class TeamUser(ApiModel):
    email: str | None = None
    name: str | None = None


class TeamUsers(RootModel[dict[str, TeamUser]]):
    """JARVICE username -> e-mail and name (team admins only)."""


class Projects(RootModel[dict[str, list[str]]]):
    """Project ("<owner>-<project>") -> member usernames."""


class QueueInfo(ApiModel):
    name: str | None = None
    app: str | None = Field(default=None, description="Application id.")
    machine: str | None = Field(default=None, description="Default machine type.")
    size: int | None = Field(default=None, description="Node limit per job.")


class Queues(RootModel[list[str] | dict[str, QueueInfo]]):
    """Queue names, or with `info=true` queue name -> details."""


class BillingReport(BaseModel):
    """The CSV billing report: its columns, its rows, and the text itself."""

    columns: list[str]
    rows: list[dict[str, str]]
    csv_text: str = Field(repr=False)

    @classmethod
    def from_csv(cls, text: str) -> BillingReport:
        records = list(csv.reader(io.StringIO(text)))
        columns = records[0] if records else []
        rows = [
            dict(zip(columns, [*record, *[""] * len(columns)], strict=False))
            for record in records[1:]
            if record
        ]
        return cls(columns=columns, rows=rows, csv_text=text)
