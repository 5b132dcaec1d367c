"""Vault listings from /jarvice/vault."""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel, model_validator

from jarvice_tools.models.base import ApiModel

__all__ = ["VaultEntry", "VaultListing"]


class VaultEntry(ApiModel):
    """A file, or a directory when the name ends in "/". Size and mtime are 0
    unless the listing was asked with details."""

    name: str
    size: int = Field(default=0, description="Bytes.")
    mtime: int = Field(default=0, description="Modification time, Unix seconds.")

    @model_validator(mode="before")
    @classmethod
    def _from_triple(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            padded = [*value, 0, 0]
            return {"name": padded[0], "size": padded[1], "mtime": padded[2]}
        return value

    @property
    def is_directory(self) -> bool:
        return self.name.endswith("/")


class VaultListing(RootModel[list[VaultEntry]]):
    """/jarvice/vault answers `[[name, size, mtime], ...]`."""
