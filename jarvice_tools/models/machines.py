"""Machine types from /jarvice/machines."""

from __future__ import annotations

from pydantic import Field, RootModel

from jarvice_tools.models.base import ApiModel

__all__ = ["Machine", "MachineCatalog"]


class Machine(ApiModel):
    """A machine type. `mc_ram` is in GB, `mc_price` per node-hour."""

    mc_name: str | None = None
    mc_description: str | None = None
    mc_arch: str | None = None
    mc_cores: int | None = None
    mc_slots: int | None = None
    mc_gpus: int | None = None
    mc_ram: int | None = None
    mc_swap: int | None = None
    mc_scratch: int | None = None
    mc_devices: str | None = None
    mc_properties: str | None = None
    mc_slave_cores: int | None = None
    mc_slave_gpus: int | None = None
    mc_slave_ram: int | None = None
    mc_slave_properties: str | None = None
    mc_scale_min: int | None = Field(default=None, description="Fewest nodes.")
    mc_scale_max: int | None = Field(default=None, description="Most nodes.")
    mc_scale_select: str | None = None
    mc_lesser: int | None = None
    mc_price: float | None = None
    mc_priority: int | None = None
    mc_privs: list[str] | None = None
    mc_max_concurrent: int | None = None
    mc_sched_id: int | None = None


class MachineCatalog(RootModel[dict[str, Machine]]):
    """Machine type name -> machine."""
