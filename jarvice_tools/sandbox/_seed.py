"""The seeded world: accounts, teams, machines, apps, vaults and history.

Everything here is static data; :mod:`._world` turns it into live state.
Times are offsets in seconds before the clock's start ("ago"), so the same
seed works with a real or a manual clock.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal

from ._png import icon_png

Role = Literal["user", "team_admin", "system_admin"]
JsonDict = dict[str, Any]

MINUTE = 60
HOUR = 3600
DAY = 86400


@dataclass(frozen=True)
class Account:
    """A seeded JARVICE login. ``vault`` is the user's default vault."""

    username: str
    apikey: str = field(repr=False)
    role: Role
    team: str
    vault: str


@dataclass(frozen=True)
class Person:
    email: str
    name: str


@dataclass(frozen=True)
class Team:
    name: str
    payer: str
    admins: tuple[str, ...]


ACCOUNTS: tuple[Account, ...] = (
    Account("alice", "9d8c540069fead1b0661aa508d9b79f7ba340408", "user", "acme",
            "alice-home"),
    Account("bob", "52aa6790a97352b5a3f97dbe84f0c79bd495979f", "user", "acme",
            "bob-home"),
    Account("carol", "f03d119d88a462db54321da7631732e5a3c04927", "team_admin",
            "acme", "carol-home"),
    Account("dave", "52554d612d74a333dc07224e3b2159fc93558290", "user", "globex",
            "dave-home"),
    Account("admin", "567142d7a8a7821dedd8939914cacff3aaee3ae5", "system_admin",
            "ops", "admin-home"),
)  # fmt: skip

PEOPLE: dict[str, Person] = {
    "alice": Person("alice@acme.example", "Alice Anders"),
    "bob": Person("bob@acme.example", "Bob Brandt"),
    "carol": Person("carol@acme.example", "Carol Chen"),
    "dave": Person("dave@globex.example", "Dave Diaz"),
    "admin": Person("admin@jarvice.example", "JARVICE Administrator"),
}

# A payer need not be a login: globex's bills go to a billing-only account.
TEAMS: dict[str, Team] = {
    "acme": Team("acme", payer="carol", admins=("carol",)),
    "globex": Team("globex", payer="globex-billing", admins=()),
    "ops": Team("ops", payer="admin", admins=("admin",)),
}

PROJECTS: dict[str, list[str]] = {
    "carol-research": ["carol", "alice", "bob"],
    "carol-vision": ["carol", "alice"],
    "dave-sandbox": ["dave"],
}


def only_project(username: str) -> str | None:
    """The user's project if they are in exactly one (JAR-4704)."""
    mine = [name for name, users in PROJECTS.items() if username in users]
    return mine[0] if len(mine) == 1 else None


def _machine(
    name: str,
    description: str,
    *,
    cores: int,
    ram: int,
    gpus: int = 0,
    scale: tuple[int, int],
    price: float,
    arch: str = "x86_64",
    devices: str = "",
    sched_id: int = 1,
) -> JsonDict:
    return {
        "mc_name": name,
        "mc_description": description,
        "mc_arch": arch,
        "mc_cores": cores,
        "mc_slots": cores,
        "mc_gpus": gpus,
        "mc_ram": ram,
        "mc_swap": 0,
        "mc_scratch": 100,
        "mc_devices": devices,
        "mc_properties": "gpu" if gpus else "",
        "mc_slave_cores": cores,
        "mc_slave_gpus": gpus,
        "mc_slave_ram": ram,
        "mc_slave_properties": "gpu" if gpus else "",
        "mc_scale_min": scale[0],
        "mc_scale_max": scale[1],
        "mc_scale_select": "",
        "mc_lesser": 0,
        "mc_price": price,
        "mc_priority": 0,
        "mc_privs": [],
        "mc_max_concurrent": 0,
        "mc_sched_id": sched_id,
    }


MACHINES: dict[str, JsonDict] = {
    m["mc_name"]: m
    for m in (
        _machine("n0", "4 core, 16GB RAM (CPU only)", cores=4, ram=16,
                 scale=(1, 1), price=0.25),
        _machine("n1", "8 core, 32GB RAM (CPU only)", cores=8, ram=32,
                 scale=(1, 4), price=0.5),
        _machine("n3", "16 core, 64GB RAM (CPU only)", cores=16, ram=64,
                 scale=(1, 16), price=1.0),
        _machine("n5", "32 core, 256GB RAM (CPU only, 2+ nodes)", cores=32,
                 ram=256, scale=(2, 32), price=2.25),
        _machine("ng4", "16 core, 128GB RAM, 1x NVIDIA A100 GPU", cores=16,
                 ram=128, gpus=1, scale=(1, 8), price=3.2,
                 devices="nvidia.com/gpu", sched_id=2),
    )
}  # fmt: skip

QUEUES: dict[str, JsonDict] = {
    # size is the node limit per job, within the machine's mc_scale_min..max
    "default": {"name": "default", "app": "jarvice-ubuntu", "machine": "n0", "size": 1},
    "gpu": {"name": "gpu", "app": "jarvice-ubuntu", "machine": "ng4", "size": 8},
    "interactive": {
        "name": "interactive",
        "app": "jarvice-desktop",
        "machine": "n1",
        "size": 1,
    },
}


def _image(seed: int) -> JsonDict:
    return {"type": "image/png", "data": base64.b64encode(icon_png(seed)).decode()}


ALL_VAULTS = ["FILE", "BLOCK", "BLOCK_ARRAY", "OBJECT", "NONE"]


def _par(kind: str, name: str, description: str, **keys: Any) -> JsonDict:
    return {"name": name, "description": description, "type": kind, **keys}


@dataclass(frozen=True)
class AppSeed:
    """An application: its AppDef plus what the API says around it.

    ``behaviour`` maps each command to how its jobs are simulated: ``script``
    (the ``command`` parameter runs like a batch jobscript), ``showcase``
    (echoes its parameters), ``desktop`` (interactive and graphical),
    ``notebook`` (interactive, not graphical) or ``fixed`` (canned output).
    """

    id: str
    appdef: JsonDict
    behaviour: dict[str, str]
    price: float = 0.0
    owner: str = "nimbix"
    public: bool = True
    repo: str = ""
    about: str | None = None
    help: str | None = None
    actions: dict[str, str] = field(default_factory=dict)
    updated_ago: int = 30 * DAY


APPS: tuple[AppSeed, ...] = (
    AppSeed(
        id="jarvice-ubuntu",
        behaviour={"Batch": "script"},
        repo="us-docker.pkg.dev/jarvice/images/ubuntu:jammy",
        appdef={
            "name": "Ubuntu Linux",
            "description": "Ubuntu 22.04 LTS: run a shell command line in batch.",
            "author": "Nimbix, Inc.",
            "licensed": True,
            "appdefversion": 1,
            "classifications": ["Development", "Utilities"],
            "machines": ["n*", "ng*"],
            "vault-types": ALL_VAULTS,
            "commands": {
                "Batch": {
                    "path": "/bin/bash",
                    "interactive": False,
                    "name": "Batch",
                    "description": "Run a shell command line, e.g. 'hostname'.",
                    "parameters": {
                        "-c": _par("CONST", "Command flag", "Run a command line.",
                                   value="-c", positional=True, required=True),
                        "command": _par("STR", "Command line",
                                        "What bash runs, e.g. 'sleep 10 && hostname'.",
                                        value="hostname", positional=True,
                                        required=True),
                    },
                }
            },
            "image": _image(1),
        },
    ),
    AppSeed(
        id="jarvice-desktop",
        behaviour={"Desktop": "desktop"},
        price=0.1,
        repo="us-docker.pkg.dev/jarvice/images/desktop-xfce:latest",
        about="<h1>Xfce Desktop</h1><p>A full Linux desktop in your browser.</p>",
        help="<p>Click the URL to open the desktop; the password is in "
        "/jarvice/connect.</p>",
        actions={
            "restart-desktop": "Restart the desktop session",
            "clear-cache": "Clear the browser session cache",
        },
        appdef={
            "name": "Xfce Desktop",
            "description": "A graphical Linux desktop (Xfce) served over noVNC.",
            "author": "Nimbix, Inc.",
            "licensed": True,
            "appdefversion": 1,
            "classifications": ["Desktop"],
            "machines": ["n*", "ng*"],
            "vault-types": ALL_VAULTS,
            "commands": {
                "Desktop": {
                    "path": "/usr/local/bin/nimbix_desktop",
                    "interactive": True,
                    "name": "Desktop",
                    "description": "Start a graphical desktop session.",
                    "url": "https://%PUBLICADDR%/vnc.html?password=%NIMBIXPASSWD%",
                    "parameters": {},
                }
            },
            "image": _image(2),
        },
    ),
    AppSeed(
        id="jarvice-params",
        behaviour={"run": "showcase"},
        price=0.05,
        repo="us-docker.pkg.dev/jarvice/images/params:1.0",
        appdef={
            "name": "Parameter Showcase",
            "description": "One parameter of every AppDef type, echoed by the job.",
            "author": "JARVICE Tools",
            "licensed": True,
            "appdefversion": 1,
            "classifications": ["Development"],
            "machines": ["n[0-9]*"],
            "vault-types": ["FILE", "NONE"],
            "commands": {
                "run": {
                    "path": "/usr/local/bin/showcase",
                    "interactive": False,
                    "name": "Run",
                    "description": "Echo every parameter, then finish.",
                    "parameters": {
                        "mode": _par("CONST", "Mode", "Always --showcase.",
                                     value="--showcase"),
                        "title": _par("STR", "Title", "A title for the run.",
                                      value="My run", required=False),
                        "count": _par("INT", "Count", "How many items (1-64).",
                                      value=4, min=1, max=64, required=True),
                        "ratio": _par("FLOAT", "Ratio", "A ratio from 0 to 1.",
                                      value=0.5, min=0.0, max=1.0, precision=2),
                        "threads": _par("RANGE", "Threads",
                                        "Threads, an even number from 2 to 32.",
                                        value=4, min=2, max=32, step=2),
                        "verbose": _par("BOOL", "Verbose", "Print more.",
                                        value=False),
                        "solver": _par("selection", "Solver", "Which solver.",
                                       values=["Conjugate gradient", "GMRES",
                                               "Direct (LU)"],
                                       mvalues=["cg", "gmres", "direct"]),
                        "input": _par("FILE", "Input file", "A CSV or DAT file.",
                                      filter="*.csv|*.dat", required=False),
                        "config": _par("UPLOAD", "Configuration",
                                       "A YAML file uploaded with the job.",
                                       target="/tmp/config.yaml",
                                       filter="*.yaml|*.yml", size=65536),
                    },
                }
            },
            "image": _image(3),
        },
    ),
    AppSeed(
        id="jarvice-jupyter",
        behaviour={"Notebook": "notebook"},
        price=0.05,
        repo="us-docker.pkg.dev/jarvice/images/jupyter:2024",
        about="<h1>JupyterLab</h1>",
        help="<p>Open the URL; the token is the job password.</p>",
        appdef={
            "name": "JupyterLab",
            "description": "JupyterLab notebooks (AppDef version 2).",
            "author": "Nimbix, Inc.",
            "licensed": True,
            "appdefversion": 2,
            "classifications": ["Data Science"],
            "machines": ["n*", "ng*"],
            "vault-types": ALL_VAULTS,
            "commands": {
                "Notebook": {
                    "path": "/usr/local/bin/start-notebook.sh",
                    "interactive": True,
                    "webshell": False,
                    "name": "Notebook",
                    "description": "Start JupyterLab.",
                    "url": "https://%PUBLICADDR%/lab?token=%NIMBIXPASSWD%",
                    "parameters": {
                        "lab": _par("BOOL", "Lab interface", "Use JupyterLab.",
                                    value=True),
                    },
                }
            },
            "image": _image(4),
        },
    ),
    AppSeed(
        id="alice-myapp",
        behaviour={"Run": "fixed"},
        owner="alice",
        public=False,
        repo="docker.io/alice/myapp:latest",
        updated_ago=DAY,
        appdef={
            "name": "My App",
            "description": "Alice's PushToCompute application.",
            "author": "Alice Anders",
            "licensed": False,
            "appdefversion": 1,
            "classifications": ["Uncategorized"],
            "machines": ["n[0-9]*"],
            "vault-types": ["FILE", "BLOCK"],
            "commands": {
                "Run": {
                    "path": "/opt/myapp/run.sh",
                    "interactive": False,
                    "name": "Run",
                    "description": "Process an input file.",
                    "parameters": {
                        "input": _par("FILE", "Input", "File to process.",
                                      required=False),
                    },
                }
            },
            "image": _image(5),
        },
    ),
)  # fmt: skip

# Vault trees: a directory is a dict, a file is (size in bytes, age in seconds).
VaultTree = dict[str, Any]


def _home(user: str) -> VaultTree:
    return {
        "README.md": (1204, 40 * DAY),
        "notes.txt": (318, 2 * DAY),
        "data": {
            "train.csv": (5_242_880, 9 * DAY),
            "test.csv": (1_048_576, 9 * DAY),
            "images": {
                f"img{i:03d}.png": (20_000 + 731 * i, 8 * DAY) for i in range(5)
            },
        },
        "scripts": {
            "train.py": (4096, 3 * DAY),
            "run.sh": (211, 3 * DAY),
        },
        "results": {
            "summary.json": (2048, 26 * HOUR),
            f"{user}-run1": {
                "log.txt": (15_000, 26 * HOUR),
                "model.bin": (90_000_000, 26 * HOUR),
            },
        },
    }  # fmt: skip


@dataclass(frozen=True)
class VaultSeed:
    name: str
    kind: str
    machines: tuple[str, ...]
    tree: VaultTree


def vaults_for(account: Account) -> list[VaultSeed]:
    vaults = [
        VaultSeed(account.vault, "FILE", ("*",), _home(account.username)),
        VaultSeed("ephemeral", "NONE", ("*",), {}),
    ]
    if account.team == "acme":
        shared = {
            "datasets": {"cifar10.tar": (170_498_071, 60 * DAY)},
            "shared-notes.md": (900, 5 * DAY),
        }
        # a CPU-only shared file system: /jarvice/machines?vault= shows the effect
        vaults.append(VaultSeed("acme-shared", "FILE", ("n[0-9]*",), shared))
    return vaults


@dataclass(frozen=True)
class JobSeed:
    """A job that already exists when the world starts."""

    owner: str
    app: str
    command: str
    status: str
    submit_ago: int
    queued: int
    ran: int
    output: list[str]
    exitcode: int | None
    machine: str = "n0"
    nodes: int = 1
    label: str = ""
    jobscript: str = ""


_OK_OUTPUT = [
    "INIT[1]: Initializing networking...",
    "INIT[1]: Platform fabric and MPI provider: tcp",
    "INIT[1]: Starting job script...",
    "Processing 1200 records from /data/data/train.csv",
    "Wrote /data/results/summary.json",
    "done",
]
_ERROR_OUTPUT = [
    "INIT[1]: Initializing networking...",
    "INIT[1]: Platform fabric and MPI provider: tcp",
    "INIT[1]: Starting job script...",
    "Loading dataset...",
    "Traceback (most recent call last):",
    '  File "/data/scripts/train.py", line 42, in <module>',
    '    frame = load_csv("/data/inputs/train.csv")',
    '  File "/data/scripts/train.py", line 17, in load_csv',
    "    with open(path) as handle:",
    "FileNotFoundError: [Errno 2] No such file or directory: '/data/inputs/train.csv'",
]
_TERMINATED_OUTPUT = [
    "INIT[1]: Initializing networking...",
    "INIT[1]: Platform fabric and MPI provider: tcp",
    "INIT[1]: Starting job script...",
    *[f"epoch {i}/100: loss={2.5 / i:.4f}" for i in range(1, 13)],
]


def job_seeds(last_month_ago: int) -> list[JobSeed]:
    """Finished jobs for every account plus one running desktop for bob.

    ``last_month_ago`` places each COMPLETED job in the previous calendar
    month so that billing's ``timeperiod=last`` has data.
    """
    seeds: list[JobSeed] = []
    for account in ACCOUNTS:
        user = account.username
        seeds += [
            JobSeed(user, "jarvice-batch", "Batch", "COMPLETED",
                    last_month_ago, 4, 1260, _OK_OUTPUT, 0, label="nightly-report",
                    jobscript="python3 /data/scripts/report.py"),
            JobSeed(user, "jarvice-batch", "Batch", "COMPLETED WITH ERROR",
                    5 * HOUR, 6, 42, _ERROR_OUTPUT, 1, machine="n1",
                    label="train-model",
                    jobscript="python3 /data/scripts/train.py"),
            JobSeed(user, "jarvice-ubuntu", "Batch", "TERMINATED",
                    3 * HOUR, 3, 900, _TERMINATED_OUTPUT, -15, machine="n3",
                    nodes=2, label="long-training"),
        ]  # fmt: skip
    seeds.append(
        JobSeed("bob", "jarvice-desktop", "Desktop", "PROCESSING STARTING",
                HOUR, 5, 0, [], None, machine="n1", label="bob-desktop"),
    )  # fmt: skip
    return seeds


# PushToCompute history: (target, age in seconds, message)
HISTORY: list[tuple[str, int, str]] = [
    ("alice-myapp", 7 * DAY, "Pull of docker.io/alice/myapp:1.0 started"),
    ("alice-myapp", 7 * DAY - 40, "Pull of docker.io/alice/myapp:1.0 completed"),
    ("alice-myapp", 2 * DAY, "Pull of docker.io/alice/myapp:1.1 started"),
    ("alice-myapp", 2 * DAY - 35,
     "Pull of docker.io/alice/myapp:1.1 failed: manifest unknown"),
    ("alice-myapp", DAY, "Build of alice-myapp started"),
    ("alice-myapp", DAY - 120, "Build of alice-myapp completed"),
]  # fmt: skip

# Audit log: (age in seconds, user, category, resource, message)
AUDIT: list[tuple[int, str, str, str, str]] = [
    (90 * DAY, "root", "settings", "cfg.machines", "machine definitions loaded"),
    (90 * DAY, "root", "ip", "192.0.2.0/24", "public address pool configured"),
    (60 * DAY, "admin", "user", "alice", "user alice created"),
    (60 * DAY, "admin", "user", "bob", "user bob created"),
    (60 * DAY, "admin", "user", "carol", "user carol created"),
    (59 * DAY, "admin", "team", "acme", "team acme created with payer carol"),
    (59 * DAY, "carol", "team", "acme", "user alice added to team acme"),
    (59 * DAY, "carol", "team", "acme", "user bob added to team acme"),
    (58 * DAY, "admin", "user", "dave", "user dave created"),
    (45 * DAY, "admin", "limit", "acme", "team acme limited to 64 nodes"),
    (40 * DAY, "alice", "vault", "alice-home", "vault alice-home created"),
    (30 * DAY, "alice", "apps", "alice-myapp", "application alice-myapp created"),
    (7 * DAY, "alice", "dockerpull", "alice-myapp",
     "pull of docker.io/alice/myapp:1.0 requested"),
    (2 * DAY, "alice", "dockerpull", "alice-myapp",
     "pull of docker.io/alice/myapp:1.1 requested"),
    (DAY, "alice", "apps", "alice-myapp", "build of alice-myapp requested"),
    (12 * HOUR, "root", "settings", "jarvice-api", "API concurrency set to 16"),
]  # fmt: skip
