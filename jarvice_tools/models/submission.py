"""Job submission bodies for /jarvice/batch and /jarvice/submit.

The caller's credentials are not part of these models: the client adds the
`user` block on the wire, so a submission can be shown, logged or stored
without a key in it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SecretStr,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from jarvice_tools.models.base import (
    GEOMETRY,
    MACHINE_NAME,
    NO_SPACES,
    WALLTIME,
    WHOLE_NUMBER,
    RequestModel,
)

__all__ = [
    "DOCKER_HUB_HOSTS",
    "ApplicationSpec",
    "BatchParams",
    "ContainerSpec",
    "HpcSpec",
    "IdentitySpec",
    "MachineSpec",
    "SubmitParams",
    "VaultSpec",
    "lower_case_fix",
    "official_image_fix",
]

DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")


def official_image_fix(image: str) -> str | None:
    """The corrected name of a Docker Hub official image given without the
    `library/` prefix that JARVICE needs, or None if the name is fine.

    `ubuntu:jammy` -> `library/ubuntu:jammy`; `docker.io/ubuntu` ->
    `docker.io/library/ubuntu`; `me/tool` and `quay.io/x/y` are fine.
    """
    first, slash, rest = image.partition("/")
    if not slash:
        return f"library/{image}"
    if first in DOCKER_HUB_HOSTS and "/" not in rest:
        return f"{first}/library/{rest}"
    return None


def lower_case_fix(image: str) -> str | None:
    """The image with its repository path in lower case, or None if it is so
    already: Docker refuses upper case there (a registry host, a tag or a
    digest may have it). `UBUNTU:Jammy` -> `ubuntu:Jammy`."""
    name, at, digest = image.partition("@")
    first, slash, rest = name.partition("/")
    host = ""
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, name = f"{first}/", rest
    path, colon, tag = name.rpartition(":") if ":" in name else (name, "", "")
    if path == path.lower():
        return None
    return f"{host}{path.lower()}{colon}{tag}{at}{digest}"


_IMAGE_CASE = "Docker repository names are lower case: use {fixed}"
_IMAGE_LIBRARY = (
    "Docker Hub official images need the library/ prefix on JARVICE: use {fixed}"
)


class ContainerSpec(RequestModel):
    image: str = Field(
        min_length=1,
        pattern=NO_SPACES,
        description=(
            "Image, e.g. library/ubuntu:jammy (Docker Hub official images need "
            "library/)."
        ),
    )
    jobscript: str = Field(
        min_length=1,
        description="Shell commands to run, e.g. 'hostname'.",
    )
    pullsecret: SecretStr | None = Field(
        default=None,
        description="Base64 docker config.json for a private registry.",
    )
    interactive: bool | None = Field(
        default=None,
        description="true: run it as an interactive job.",
    )

    @field_validator("image")
    @classmethod
    def _findable_image(cls, image: str) -> str:
        """Refuse a name Docker or JARVICE would not find, with the fix."""
        lowered = lower_case_fix(image)
        official = official_image_fix(lowered or image)
        if lowered is not None:
            message, fixed = _IMAGE_CASE, official or lowered
        elif official is not None:
            message, fixed = _IMAGE_LIBRARY, official
        else:
            return image
        raise PydanticCustomError("image_name", message, {"fixed": fixed})


class MachineSpec(RequestModel):
    type: str = Field(
        min_length=1,
        pattern=MACHINE_NAME,
        description="Machine type, e.g. n0 (the machines action lists them).",
    )
    nodes: Annotated[int, WHOLE_NUMBER] = Field(
        default=1, ge=1, le=65536, description="Number of nodes."
    )


_PORTAL_FLAG = "Leave false unless the portal's PREVIEW SUBMISSION sets it."
"""For flags the JARVICE docs show but do not explain; the portal's task
builder shows the submission it would send."""


class VaultSpec(RequestModel):
    name: str = Field(
        min_length=1, description="Vault to mount as /data, e.g. ephemeral."
    )
    readonly: bool = Field(
        default=False,
        description=(
            "true: mount read-only (an object-storage vault's changed objects "
            "are then not copied back)."
        ),
    )
    force: bool = Field(default=False, description=_PORTAL_FLAG)
    password: SecretStr | None = Field(
        default=None, description="Only for encrypted block vaults."
    )
    objects: list[str] | None = Field(
        default=None, description="Object-storage vaults: objects to copy in."
    )
    bucket: str | None = Field(
        default=None, min_length=1, description="Object-storage vaults: the bucket."
    )


class IdentitySpec(RequestModel):
    # The user a job runs as, instead of `nimbix`; an AppDef's identity wins.

    username: str | None = Field(
        default=None, min_length=1, description="User name in the job."
    )
    group: str | None = Field(
        default=None, min_length=1, description="Group name in the job."
    )
    uid: int | None = Field(default=None, ge=1, description="User id; not 0 (root).")
    gid: int | None = Field(default=None, ge=1, description="Group id; not 0.")


class HpcSpec(RequestModel):
    """Settings of JARVICE's HPC (Slurm/SGE-style) front end, named as JARVICE
    names them. The `hpc` field lists them in its description and shows a
    plain object in JSON schemas: spelled out, this model would add about a
    kilobyte to each submission tool in every MCP tool listing."""

    hpc_job_script: str | None = None
    hpc_job_shell: str | None = None
    hpc_job_env_config: str | None = None
    hpc_queue: str | None = Field(default=None, min_length=1)
    hpc_resources: dict[str, str] | None = None
    hpc_envs: dict[str, str] | None = None
    hpc_umask: int | None = Field(default=None, ge=0, le=0o777)


_WALLTIME = Field(
    default=None,
    pattern=WALLTIME,
    description="Maximum run time as HH:MM:SS, e.g. 02:00:00.",
)

_PRIORITY = Field(default=None, description="Team payers and admins only.")


class _JobOptions(RequestModel):
    machine: MachineSpec = Field(description="Where to run: type and node count.")
    vault: VaultSpec | None = Field(
        default=None, description="Storage vault to mount as /data."
    )
    identity: IdentitySpec | None = Field(
        default=None,
        description="Run as this user, not nimbix (an AppDef's identity wins).",
    )
    job_label: str | None = Field(
        default=None, min_length=1, max_length=128, description="A label to find it."
    )
    job_project: str | None = Field(
        default=None, min_length=1, description="Project to bill to."
    )
    job_priority: Literal["normal", "high", "highest"] | None = _PRIORITY
    licenses: str | None = Field(
        default=None, description="License features, e.g. 'feat:1,feat2:2/60'."
    )
    queue: str | None = Field(
        default=None, min_length=1, description="Job queue, where JARVICE has them."
    )
    hpc: Annotated[HpcSpec | None, WithJsonSchema({"type": "object"})] = Field(
        default=None,
        description=(
            "HPC (Slurm/SGE-style) job settings, usually left out: texts "
            "hpc_job_script, hpc_job_shell, hpc_job_env_config, hpc_queue; a "
            "number hpc_umask; name-to-text objects hpc_resources, hpc_envs."
        ),
    )
    gen_sshkey: bool | None = Field(
        default=None,
        description="true: JARVICE makes an SSH key for the job.",
    )
    publicIP: bool | None = Field(  # JARVICE's own spelling
        default=None,
        description="true: give the job a public IP address, where offered.",
    )

    def body(self) -> dict[str, Any]:
        """The JSON body, secrets included: only the client calls this."""
        dumped = self.model_dump(mode="python", by_alias=True, exclude_none=True)
        revealed: dict[str, Any] = _reveal_secrets(dumped)
        return revealed


def _reveal_secrets(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _reveal_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal_secrets(v) for v in value]
    return value


class BatchParams(_JobOptions):
    """A container and a command to run in it."""

    container: ContainerSpec = Field(description="The image and the script.")


_Unstripped = Annotated[str, StringConstraints(strip_whitespace=False)]
"""A parameter value as given: an UPLOAD's is a file's content, whose
leading and trailing whitespace matter."""


class ApplicationSpec(RequestModel):
    command: str = Field(
        min_length=1,
        description="The command to run: a key of the AppDef's commands.",
    )
    geometry: str | None = Field(
        default=None,
        pattern=GEOMETRY,
        description="Desktop size for interactive apps, e.g. 1904x841.",
    )
    parameters: dict[str, _Unstripped | int | float | bool] = Field(
        default_factory=dict,
        description="Values for the command's parameters, by parameter key.",
    )
    walltime: str | None = _WALLTIME
    ipaddr: str | None = Field(default=None, description="A service address tag.")


class SubmitParams(_JobOptions):
    """An application from the catalogue, with its command and parameters."""

    app: str = Field(min_length=1, description="Application id, e.g. jarvice-ubuntu.")
    application: ApplicationSpec = Field(description="Its command and parameters.")
    staging: bool = Field(default=False, description=_PORTAL_FLAG)
    checkedout: bool = Field(default=False, description=_PORTAL_FLAG)
