"""How a simulated job runs: its output lines over time and its outcome.

A batch jobscript is read, not executed. The rules (also in docs/sandbox.md):

- The script is split into commands on newlines, ``;``, ``&&`` and ``||``,
  with shell quoting; ``&&``/``||`` skip the next command as bash would.
- ``sleep N`` adds N seconds to the run; ``echo ...`` prints its words;
  ``hostname`` prints the node's host name; ``nproc`` its cores;
  ``whoami`` prints ``nimbix``; ``cat /etc/os-release`` describes the
  image; ``nvidia-smi -L`` lists GPUs (or fails on a CPU machine);
  ``true`` and ``false`` succeed and fail.
- ``exit N`` ends the script with status N at once.
- Any other command, and any pipeline, succeeds silently after one
  second; output redirected with ``>`` or ``>>`` is not shown.
- The final status is the last command's; nonzero means
  ``COMPLETED WITH ERROR``. A run lasts at most :data:`MAX_RUN` seconds.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

MAX_RUN = 45.0
INIT_SECONDS = 2.0
INIT_LINES = (
    "INIT[1]: Initializing networking...",
    "INIT[1]: Platform fabric and MPI provider: tcp",
    "INIT[1]: Reading keys...",
    "INIT[1]: Finding cluster nodes...",
    "INIT[1]: Starting job script...",
)
_SEPARATORS = {";", "&&", "||", "&"}


@dataclass
class Plan:
    """Output lines at offsets (seconds of running time) and how it ends.

    ``duration`` None means the job runs until it is stopped.
    """

    lines: list[tuple[float, str]] = field(default_factory=list)
    duration: float | None = None
    exitcode: int = 0


@dataclass(frozen=True)
class Node:
    hostname: str
    cores: int
    gpus: int
    image: str


def init_lines(hostname: str) -> list[tuple[float, str]]:
    lines = [(0.0, line) for line in INIT_LINES[:-1]]
    lines.insert(2, (0.0, f"INIT[1]: Node hostname: {hostname}"))
    lines.append((INIT_SECONDS, INIT_LINES[-1]))
    return lines


def _split(script: str) -> list[tuple[str, list[str]]]:
    """(separator before, argv) pairs; the first separator is ';'."""
    commands: list[tuple[str, list[str]]] = []
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        separator, argv = ";", list[str]()
        try:
            tokens = list(lexer)
        except ValueError:
            tokens = line.split()
        for token in tokens:
            if token in _SEPARATORS:
                if argv:
                    commands.append((separator, argv))
                separator, argv = (";" if token == "&" else token), []
            else:
                argv.append(token)
        if argv:
            commands.append((separator, argv))
    return commands


def _os_release(image: str) -> list[str]:
    base = image.rsplit("/", 1)[-1].split(":", 1)[0]
    if base in ("rockylinux", "rocky", "centos", "almalinux"):
        return ['NAME="Rocky Linux"', 'VERSION="9.3 (Blue Onyx)"', "ID=rocky"]
    if base == "alpine":
        return ['NAME="Alpine Linux"', "ID=alpine", "VERSION_ID=3.20.0"]
    if base == "debian":
        return ['PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"', "ID=debian"]
    return [
        'PRETTY_NAME="Ubuntu 22.04.4 LTS"',
        'NAME="Ubuntu"',
        'VERSION_ID="22.04"',
        'VERSION="22.04.4 LTS (Jammy Jellyfish)"',
        "ID=ubuntu",
    ]


def _run(argv: list[str], node: Node) -> tuple[list[str], float, int]:
    """Output, seconds taken and exit status of one command."""
    if "|" in argv:  # a pipeline: its output is whatever the last stage makes
        return [], 1.0, 0
    redirect = next((i for i, a in enumerate(argv) if a in (">", ">>")), None)
    if redirect is not None:
        _, seconds, status = _run(argv[:redirect], node)
        return [], seconds, status
    name, args = argv[0], argv[1:]
    if name == "echo":
        words = [a for a in args if a not in ("-n", "-e")]
        return [" ".join(words)], 0.0, 0
    if name == "sleep":
        try:
            return [], max(0.0, float(args[0]) if args else 0.0), 0
        except ValueError:
            return [f"sleep: invalid time interval '{args[0]}'"], 0.0, 1
    simple = {"hostname": node.hostname, "nproc": str(node.cores), "whoami": "nimbix"}
    if name in simple:
        return [simple[name]], 0.0, 0
    if name == "true":
        return [], 0.0, 0
    if name == "false":
        return [], 0.0, 1
    if name == "cat" and args == ["/etc/os-release"]:
        return _os_release(node.image), 0.0, 0
    if name == "nvidia-smi":
        if not node.gpus:
            msg = "NVIDIA-SMI has failed because it couldn't communicate with the"
            return [f"{msg} NVIDIA driver."], 0.0, 9
        gpus = [f"GPU {i}: NVIDIA A100-SXM4-40GB" for i in range(node.gpus)]
        return gpus, 0.0, 0
    return [], 1.0, 0


def plan_script(script: str, node: Node) -> Plan:
    """The plan of a batch jobscript (see the module docstring)."""
    plan = Plan(lines=init_lines(node.hostname))
    clock, status = INIT_SECONDS, 0
    for separator, argv in _split(script):
        if (separator == "&&" and status != 0) or (separator == "||" and status == 0):
            continue
        if argv[0] == "exit":
            code = argv[1] if len(argv) > 1 else str(status)
            status = int(code) if code.lstrip("-").isdigit() else 2
            break
        output, seconds, status = _run(argv, node)
        plan.lines += [(min(clock, MAX_RUN), line) for line in output]
        clock += seconds
    if status != 0:
        plan.lines.append(
            (min(clock, MAX_RUN), f"Job script exited with status {status}")
        )
    plan.duration = min(max(clock, INIT_SECONDS + 1), MAX_RUN)
    plan.exitcode = status
    return plan


def plan_lines(lines: list[str], node: Node, seconds: float, exitcode: int = 0) -> Plan:
    """A plan printing ``lines`` evenly over ``seconds`` after start-up."""
    plan = Plan(lines=init_lines(node.hostname), duration=seconds, exitcode=exitcode)
    step = (seconds - INIT_SECONDS) / (len(lines) + 1)
    plan.lines += [(INIT_SECONDS + step * (i + 1), ln) for i, ln in enumerate(lines)]
    return plan


def plan_interactive(node: Node, ready: list[str]) -> Plan:
    """An interactive job: start-up lines, then it runs until stopped."""
    plan = Plan(lines=init_lines(node.hostname), duration=None)
    plan.lines += [(INIT_SECONDS + 1, line) for line in ready]
    return plan
