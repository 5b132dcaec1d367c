"""Help generated from the router: the overview and one page per name.

Nothing here is written per action: the overview lists every registered
subcommand by group, and an action's page comes from its parameter model
(field names, kinds, defaults, descriptions) and its guard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jarvice_tools.models import JobRef
from slack_bot import messages
from slack_bot.args import field_docs, plain_word, positional_fields
from slack_bot.blocks import context, section

if TYPE_CHECKING:
    from slack_bot.router import CommandRouter, Reply, Subcommand

__all__ = ["HelpBook"]

_SECTION_LIMIT = 2900


class HelpBook:
    def __init__(self, router: CommandRouter) -> None:
        self.router = router

    def reply(self, topic: str) -> Reply:
        """The overview (no topic) or one subcommand's page."""
        from slack_bot.router import Reply

        topic = topic.strip().lower()
        if not topic:
            return Reply(messages.HELP_INTRO, blocks=self.overview(), outcome="help")
        subcommand = self.router.get(topic)
        if subcommand is None:
            suggestion = self.router.suggest(topic)
            text = messages.unknown_action(plain_word(topic), suggestion)
            return Reply(text, outcome="help")
        blocks = self.page(subcommand)
        return Reply(f"{messages.COMMAND} {subcommand.usage}", blocks, outcome="help")

    def overview(self) -> list[dict[str, Any]]:
        groups: dict[str, list[str]] = {}
        for sub in self.router.subcommands:
            marks = "".join(
                mark
                for mark, on in (
                    (sub.mark, bool(sub.mark)),
                    (messages.ADMIN_MARK, sub.admin),
                )
                if on
            )
            line = f"`{sub.name}`{' ' + marks if marks else ''} {sub.summary}"
            groups.setdefault(sub.group, []).append(line)
        blocks = [section(messages.HELP_INTRO)]
        for group, lines in groups.items():
            blocks.extend(_chunked(f"*{group}*", lines))
        blocks.append(context(messages.HELP_FOOTER))
        return blocks

    def page(self, sub: Subcommand) -> list[dict[str, Any]]:
        usage, required = self.usage(sub)
        lines = [f"*{messages.COMMAND} {sub.name}*: {sub.summary}"]
        if sub.help:
            lines.append(sub.help)
        lines.append(
            f"{messages.USAGE}: `{usage}`" + (f" ({required})" if required else "")
        )
        blocks = [section("\n".join(lines))]
        if sub.params is not None:
            parameter_lines = [_field_line(doc) for doc in field_docs(sub.params)]
            if parameter_lines:
                blocks.extend(_chunked(f"*{messages.PARAMETERS}*", parameter_lines))
            else:
                blocks.append(context(messages.NO_PARAMETERS))
        notes = [note for note in sub.notes if note]
        if sub.admin:
            notes.append(messages.ADMIN_ONLY)
        if notes:
            blocks.append(context("\n".join(notes)))
        return blocks

    def usage(self, sub: Subcommand) -> tuple[str, str]:
        """The usage line and a note on what is required."""
        if sub.params is None:
            return f"{messages.COMMAND} {sub.usage}", ""
        model = sub.params
        positional = positional_fields(model)
        words = []
        for name in positional:
            if name == "number" and issubclass(model, JobRef):
                words.append("<job number>")
            else:
                words.append(f"<{name}>")
        docs = [doc for doc in field_docs(model) if doc.key not in positional]
        if issubclass(model, JobRef):
            docs = [doc for doc in docs if doc.key != "name"]
        required = [doc for doc in docs if doc.required]
        optional = [doc for doc in docs if not doc.required]
        words += [f"{doc.key}=…" for doc in required]
        if len(optional) <= 4:
            words += [f"[{doc.key}=…]" for doc in optional]
        elif optional:
            words.append("[key=value …]")
        note = ""
        if issubclass(model, JobRef):
            note = "the job number, or name=<job name>"
        return f"{messages.COMMAND} {sub.name} {' '.join(words)}".rstrip(), note


def _field_line(doc: Any) -> str:
    facts = [doc.kind]
    if doc.required:
        facts.append(messages.REQUIRED)
    if doc.default is not None:
        facts.append(f"{messages.DEFAULT} {doc.default}")
    description = f": {doc.description}" if doc.description else ""
    return f"• `{doc.key}` ({'; '.join(facts)}){description}"


def _chunked(title: str, lines: list[str]) -> list[dict[str, Any]]:
    """Sections of at most ~3000 characters (Slack's limit per section)."""
    blocks: list[dict[str, Any]] = []
    current = title
    for line in lines:
        if len(current) + len(line) + 1 > _SECTION_LIMIT:
            blocks.append(section(current))
            current = line
        else:
            current = f"{current}\n{line}"
    blocks.append(section(current))
    return blocks
