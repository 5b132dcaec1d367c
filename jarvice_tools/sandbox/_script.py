"""How a simulated job runs: its output lines over time and its outcome.

A batch jobscript is read, not executed. The rules (also in docs/sandbox.md):

- The script is split into commands on newlines, ``;``, ``&&`` and ``||``,
  with shell quoting; ``&&``/``||`` skip the next command as bash would.
- ``sleep N`` adds N seconds to the run; ``echo ...`` prints its words;
  ``hostname`` prints the node's host name; ``nproc`` its cores;
  ``whoami`` prints ``nimbix``; ``cat /etc/os-release`` describes the
  image; ``nvidia-smi -L`` lists GPUs (or fails on a CPU machine);
  ``true`` and ``false`` succeed and fail.
- ``exit N`` ends the script at once with status N modulo 256, as bash
  does; ``exit`` with a word that is not a number prints ``exit: <word>:
  numeric argument required`` and ends it with status 2.
- Any other command, and any pipeline, succeeds silently after one
  second. A command whose standard output goes to a file (``>``, ``>>``,
  ``>|``, ``1>``, ``&>``, ``>& file``) shows nothing; ``>&2``, ``2>&1``,
  ``2> file`` and ``< file`` change nothing that is shown. A command that
  is only a redirection succeeds at once.
- The final status is the last command's; nonzero means
  ``COMPLETED WITH ERROR``. A run lasts at most :data:`MAX_RUN` seconds.
"""

from __future__ import annotations

import re
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
_PIPES = {"|", "|&"}
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    | (?P<comment>\#.*)
    | (?P<op>[0-9]*(?:>>|>&|>\||<&|>|<)|&>>|&>|&&|\|\||\|&|[;&|])
    | (?P<word>(?:[^\s'"\\;&|<>]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+)""",
    re.VERBOSE,
)
_QUOTED = re.compile(r"""\\(.)|'([^']*)'|"((?:[^"\\]|\\.)*)"|([^\\'"]+)""")
_TO_FILE = re.compile(r"1?(?:>|>>|>\|)|&>|&>>")
EXIT_STATUS = re.compile(r"[+-]?[0-9]{1,18}")  # what fits in bash's intmax_t


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


@dataclass
class Command:
    """One simple command: its words and where its standard output goes.

    ``quiet``: standard output goes to a file, so nothing is shown.
    ``redirected``: it has a redirection (it may have no words at all).
    """

    argv: list[str] = field(default_factory=list)
    quiet: bool = False
    redirected: bool = False
    pipeline: bool = False


def _unquote(word: str) -> str:
    """A shell word without its quotes and backslashes."""
    parts: list[str] = []
    for escaped, single, double, plain in _QUOTED.findall(word):
        if double:
            parts.append(re.sub(r'\\(["\\$`])', r"\1", double))
        else:
            parts.append(escaped or single or plain)
    return "".join(parts)


def _tokens(line: str) -> list[tuple[str, str]]:
    """(kind, text) pairs, kind ``op`` or ``word``, without comments.

    An unclosed quote makes the rest of the line plain words.
    """
    tokens: list[tuple[str, str]] = []
    at = 0
    while at < len(line):
        match = _TOKEN.match(line, at)
        if match is None:
            return tokens + [("word", word) for word in line[at:].split()]
        if match.lastgroup == "op":
            tokens.append(("op", match[0]))
        elif match.lastgroup == "word":
            tokens.append(("word", _unquote(match[0])))
        at = match.end()
    return tokens


def _hides_output(operator: str, target: str | None) -> bool:
    """Whether a redirection sends standard output to a file."""
    if operator in (">&", "1>&"):  # >&2 is a stream, >& name a file
        return target is None or not target.isdigit()
    return _TO_FILE.fullmatch(operator) is not None


def _commands(tokens: list[tuple[str, str]]) -> list[tuple[str, Command]]:
    """One line's (separator before, command) pairs."""
    commands: list[tuple[str, Command]] = []
    separator, command = ";", Command()
    position = 0
    while position < len(tokens):
        kind, text = tokens[position]
        position += 1
        if kind == "word":
            command.argv.append(text)
        elif text in _SEPARATORS:
            commands.append((separator, command))
            separator, command = (";" if text == "&" else text), Command()
        elif text in _PIPES:
            command.pipeline = True
        else:
            target = None
            if position < len(tokens) and tokens[position][0] == "word":
                target = tokens[position][1]
                position += 1
            command.redirected = True
            command.quiet = command.quiet or _hides_output(text, target)
    commands.append((separator, command))
    return [(sep, cmd) for sep, cmd in commands if cmd.argv or cmd.redirected]


def _split(script: str) -> list[tuple[str, Command]]:
    """(separator before, command) pairs; the first separator is ';'."""
    return [pair for line in script.splitlines() for pair in _commands(_tokens(line))]


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


def _run(command: Command, node: Node) -> tuple[list[str], float, int]:
    """Output, seconds taken and exit status of one command."""
    if command.pipeline:  # its output is whatever the last stage makes
        return [], 1.0, 0
    if not command.argv:  # only a redirection: the file is created at once
        return [], 0.0, 0
    output, seconds, status = _simple(command.argv, node)
    return ([] if command.quiet else output), seconds, status


def _simple(argv: list[str], node: Node) -> tuple[list[str], float, int]:
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


def _exit(args: list[str], status: int) -> tuple[list[str], int]:
    """What ``exit`` prints and the script's status, as bash has them."""
    if not args:
        return [], status
    if EXIT_STATUS.fullmatch(args[0]) is None:
        return [f"exit: {args[0]}: numeric argument required"], 2
    return [], int(args[0]) % 256


def plan_script(script: str, node: Node) -> Plan:
    """The plan of a batch jobscript (see the module docstring)."""
    plan = Plan(lines=init_lines(node.hostname))
    clock, status = INIT_SECONDS, 0
    for separator, command in _split(script):
        if (separator == "&&" and status != 0) or (separator == "||" and status == 0):
            continue
        if command.argv[:1] == ["exit"] and not command.pipeline:
            output, status = _exit(command.argv[1:], status)
            plan.lines += [(min(clock, MAX_RUN), line) for line in output]
            break
        output, seconds, status = _run(command, node)
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
