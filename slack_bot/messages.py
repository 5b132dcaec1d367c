"""Every sentence the Slack app says to a person, in one place.

Help texts, refusals, prompts and confirmations are reviewed and tested
here. Each is a sentence saying what happened and what the reader can do.
Slack mrkdwn: *bold*, `code`, <@U123> mentions a user.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from jarvice_tools.errors import FieldProblem

COMMAND = "/jarvice"

# Help.

HELP_INTRO = (
    f"*{COMMAND} <action> [arguments]* runs a JARVICE action as you. Arguments "
    "are words (`status 1234`) or `key=value` pairs (`tail 1234 lines=50`); "
    f"`{COMMAND} help <action>` explains one action."
)
HELP_FOOTER = (
    "Answers are visible only to you. Actions marked :warning: ask you to "
    "confirm first; :lock: marks administrator actions."
)
HELP_SLACK_GROUP = "This Slack app"
HELP_GROUPS = {
    "jobs": "Jobs",
    "apps": "Applications",
    "machines": "Machines",
    "vault": "Storage vaults",
    "images": "Application images",
    "admin": "Administration",
}
CONFIRM_MARK = ":warning:"
ADMIN_MARK = ":lock:"
USAGE = "Usage"
PARAMETERS = "Parameters"
NO_PARAMETERS = "This action takes no parameters."
REQUIRED = "required"
DEFAULT = "default"
NEEDS_CONFIRMATION = (
    ":warning: Needs your confirmation: you get a card showing what will "
    "happen, and nothing is sent until you press Confirm."
)
MAY_NEED_CONFIRMATION = (
    ":warning: A signal that may end the job's processes (anything but 17-23 "
    "and 28, e.g. 15 or 9) needs your confirmation first, like terminate."
)
ADMIN_ONLY = (
    ":lock: Only for the Slack users this deployment names as administrators "
    "(SLACK_ADMIN_USERS)."
)
DEPRECATED = "JARVICE has deprecated this endpoint."
MODAL_HINT_BATCH = (
    f"`{COMMAND} batch` with no arguments opens a form with the machine types "
    "you can use."
)
MODAL_HINT_SUBMIT = (
    f"`{COMMAND} submit <app>` opens a form built from the application's "
    "parameters; add `command=<name>` for a command other than the first."
)

LOGIN_SUMMARY = "Link your Slack account to your JARVICE account (opens a form)."
LOGOUT_SUMMARY = "Unlink your account and delete your API key from this app."
WHOAMI_SUMMARY = "Show which JARVICE user your commands run as."
HELP_SUMMARY = "List the actions, or explain one: help <action>."
AUDIT_LOG_SUMMARY = (
    "Read this app's audit log: audit-log [user=U123] [action=terminate] "
    "[limit=20] (administrators)."
)
AUDIT_LOG_HELP = (
    "Every command, button click and form submission is recorded with who, "
    "when, the JARVICE user, the arguments (secrets masked) and the outcome. "
    "Filters: `user=<Slack ID or @mention>`, `action=<name>`, `limit=<1-100>` "
    "(default 20)."
)


def unknown_action(name: str | None, suggestion: str | None) -> str:
    hint = f" Did you mean `{suggestion}`?" if suggestion else ""
    called = f" called `{name}`" if name else " by that name"
    return (
        f"There is no action{called}.{hint} `{COMMAND} help` lists them all. "
        "Nothing was sent to JARVICE."
    )


def bad_arguments(
    action: str, problems: Sequence[FieldProblem], usage: str, required: str
) -> str:
    lines = [f"Those arguments do not fit `{action}`; nothing was sent to JARVICE:"]
    lines += [f"• `{p.field}` {readable(p.message)}" for p in problems]
    lines.append(f"Usage: `{usage}`" + (f" ({required})" if required else ""))
    lines.append(f"`{COMMAND} help {action}` describes every parameter.")
    return "\n".join(lines)


def readable(message: str) -> str:
    """A validation message as the end of a sentence about `field`; never
    a raw pattern."""
    if message.startswith("String should match pattern"):
        return "is not written in the expected format"
    for generic, plain_words in _GENERIC.items():
        if message.startswith(generic):
            return plain_words
    return (
        message.replace("Input should be", "must be")
        .replace("Field required", "is required")
        .rstrip(".")
    )


_GENERIC = {
    "Input should be a valid string": "must be filled in",
    "String should have at least 1 character": "must not be empty",
}


def is_generic(message: str) -> bool:
    """Whether a validation message says only that a value is missing or
    malformed (a form then says what the field wants instead)."""
    return message.startswith(
        ("Input should be", "String should", "Field required", "is required")
    )


# Identity.

NOT_LINKED = (
    f"Your Slack account is not linked to JARVICE yet, so nothing was sent. "
    f"Run `{COMMAND} login` and enter your JARVICE username and API key (from "
    "the JARVICE portal: your account menu, then API key)."
)
LOGIN_ARGS_IGNORED = (
    f"`{COMMAND} login` takes no arguments: type your API key only in the form, "
    "never in a command. If you typed it here, consider generating a new one "
    "in the JARVICE portal."
)
LOGIN_TITLE = "Link JARVICE"
LOGIN_SUBMIT = "Link"
LOGIN_CLOSE = "Cancel"
LOGIN_INTRO = (
    "Your commands will run as this JARVICE user. The API key is checked with "
    "JARVICE, then stored encrypted; it is never shown in Slack again."
)
LOGIN_USERNAME = "JARVICE username"
LOGIN_APIKEY = "API key"
LOGIN_APIKEY_HINT = (
    "From the JARVICE portal: your account menu, then API key. Not your password."
)
LOGIN_CHECKING = "Checking your username and API key with JARVICE…"
LOGIN_EMPTY_USERNAME = "Enter your JARVICE username."
LOGIN_EMPTY_APIKEY = "Enter your JARVICE API key."
UNVERIFIED = "(unverified)"
"""Stands for a login username in logs and the audit log until JARVICE
accepted it (it could be an API key typed into the wrong field)."""
LOGIN_REFUSED = (
    "JARVICE did not accept this username and API key. Check both; the API "
    "key is on the portal's account page (it is not your password)."
)


def login_unreachable(reason: str) -> str:
    return f"Could not check with JARVICE, so nothing was saved: {reason}"


def linked(username: str) -> str:
    return (
        f":white_check_mark: Linked: your `{COMMAND}` commands now run as JARVICE "
        f"user *{username}*. `{COMMAND} logout` unlinks."
    )


def login_failed(reason: str) -> str:
    return f":x: Not linked: {reason} Run `{COMMAND} login` to try again."


def unlinked(username: str) -> str:
    return (
        f"Unlinked from JARVICE user *{username}*; your API key was deleted from "
        "this app."
    )


NOTHING_TO_UNLINK = "Your Slack account was not linked to JARVICE."


def whoami(user_id: str, username: str | None, since: str | None, admin: bool) -> str:
    role = " You are an administrator of this app." if admin else ""
    if username is None:
        return f"You are <@{user_id}> (`{user_id}`), not linked to JARVICE.{role}"
    return (
        f"You are <@{user_id}> (`{user_id}`), linked to JARVICE user *{username}* "
        f"since {since}.{role}"
    )


# Admin gate.


def admin_only(action: str, user_id: str) -> str:
    return (
        f"`{action}` is for administrators of this Slack app, and you are not "
        f"one; nothing was sent to JARVICE. The operator can add your Slack ID "
        f"`{user_id}` to SLACK_ADMIN_USERS."
    )


# Confirmation.

CONFIRM_BUTTON = "Confirm"
CANCEL_BUTTON = "Cancel"


def confirm_prompt(minutes: int) -> str:
    return (
        f"Nothing has been sent yet. Only you can confirm, within {minutes} "
        "minutes; it runs as your JARVICE user."
    )


def confirmed_by(user_id: str, action: str, what: str, said: str) -> str:
    return (
        f":white_check_mark: <@{user_id}> confirmed {action} of {what}. JARVICE: {said}"
    )


def cancelled(action: str, what: str) -> str:
    return f"Cancelled: {action} of {what} was not sent to JARVICE."


def not_yours(asker: str) -> str:
    return (
        f"Only <@{asker}>, who asked for this, can confirm or cancel it. "
        "Nothing was sent."
    )


CONFIRM_EXPIRED = (
    "This confirmation has expired, so nothing was sent. Run the command again "
    "to get a fresh card."
)
CONFIRM_ALREADY_DECIDED = (
    "This card was already confirmed or cancelled; a second click does nothing."
)
CONFIRM_UNKNOWN = "This confirmation is unknown (perhaps cleaned up). Nothing was sent."
CONFIRM_UNLINKED = (
    "You are no longer linked to JARVICE, so nothing was sent. Run "
    f"`{COMMAND} login`, then the command again."
)
CONFIRM_RELINKED = (
    "You are now linked to a different JARVICE user than when you asked, so "
    "nothing was sent. Run the command again."
)


def confirm_failed(action: str, what: str, reason: str) -> str:
    return f":x: {action} of {what} failed: {reason}"


BUTTON_READS_ONLY = (
    "This button can only run actions that read (status, output, metrics, …); "
    f"type the command after `{COMMAND}` instead. Nothing was sent to JARVICE."
)

# Results.

WORKING = "Asking JARVICE…"
NO_ACTIVE_JOBS = (
    f"You have no queued or running jobs. `{COMMAND} jobs completed` lists "
    "your completed ones."
)
NO_COMPLETED_JOBS = "You have no completed jobs."
EMPTY_OUTPUT = "(no output yet)"
EMPTY_LISTING = "(empty)"


def more_jobs(shown: int, total: int) -> str:
    return f"Showing {shown} of {total} jobs. `{COMMAND} status <number>` shows one."


def output_cut(shown: int, total: int) -> str:
    return f"Showing the last {shown} of {total} lines."


def output_sent(shown: int, total: int) -> str:
    return (
        f"Showing the last {shown} of {total} lines; the whole text is in a file "
        "in your direct messages with this app."
    )


def output_not_sent(shown: int, total: int, reason: str) -> str:
    return (
        f"Showing the last {shown} of {total} lines; the whole text could not be "
        f"sent to you as a file ({reason}). Try again in a moment."
    )


def alert_output_cut(shown: int, total: int) -> str:
    """Under an alert's output: the button sends the rest privately."""
    return (
        f"Showing the last {shown} of {total} lines. *Full output* sends you "
        "the whole text as a file, privately."
    )


def rows_shown(shown: int, total: int) -> str:
    return f"Showing the first {shown} rows of {total}."


def submitted(number: int, name: str) -> str:
    return (
        f":rocket: Submitted job *{number}* (`{name}`). `{COMMAND} status {number}` "
        "follows it."
    )


def uploaded(what: str) -> str:
    return f"{what} is in your direct messages with this app."


def upload_failed(what: str, reason: str) -> str:
    return f"Could not upload {what} to Slack ({reason}). Try again in a moment."


def jarvice_error(message: str) -> str:
    return f":x: {message}"


def internal_error(reference: str) -> str:
    return (
        "Something went wrong inside this Slack app; the operator's log has the "
        f"details under reference `{reference}`. Nothing more was sent to JARVICE."
    )


# Forms.

BATCH_TITLE = "Run a container"
SUBMIT_TITLE = "Run an application"
SUBMIT_BUTTON = "Submit"
LOADING_TITLE = "JARVICE"
LOADING = "Asking JARVICE…"
FORM_IMAGE = "Container image"
FORM_IMAGE_HINT = "Docker Hub official images need library/, e.g. library/ubuntu:jammy"
FORM_SCRIPT = "Commands to run"
FORM_MACHINE = "Machine type"
FORM_NODES = "Nodes"
FORM_VAULT = "Vault (optional)"
FORM_VAULT_HINT = "Storage mounted as /data; empty for your default vault."
FORM_WALLTIME = "Maximum run time (optional)"
FORM_WALLTIME_HINT = "HH:MM:SS, e.g. 02:00:00"
FORM_LABEL = "Job label (optional)"
FORM_PROBLEMS = {
    "image": "Enter a container image, e.g. library/ubuntu:jammy.",
    "script": "Enter the commands the job runs, e.g. hostname.",
    "machine": "Choose a machine type.",
    "nodes": "Enter a whole number of nodes, 1 or more.",
    "walltime": "Write the maximum run time as HH:MM:SS, e.g. 02:00:00, or leave "
    "it empty.",
    "vault": "Enter a vault name, or leave it empty for your default vault.",
    "label": "Enter a label, or leave it empty.",
}
"""What a form field wants, said instead of a generic validation message."""
NO_MACHINES = "JARVICE lists no machine types you can use."
FORM_CONST = "Fixed by the application"


def upload_hint(target: str | None, pattern: str | None, limit: int) -> str:
    """Under an UPLOAD parameter: what to paste and where it ends up."""
    kind = f" ({pattern})" if pattern else ""
    where = f"JARVICE writes it to {target}" if target else "JARVICE stores it"
    return (
        f"Paste the file's text{kind}, not its name: {where} for the job. "
        f"At most {limit} characters."
    )


def other_commands(app: str, names: Iterable[str]) -> str:
    listed = ", ".join(f"`{n}`" for n in names)
    return f"Other commands: {listed} (`{COMMAND} submit {app} command=<name>`)."


def form_failed(reason: str) -> str:
    return f":x: Could not build the form: {reason}"


def form_slow(what: str) -> str:
    return (
        f"JARVICE took too long to answer while checking {what}; nothing was "
        "submitted. Press Submit again."
    )


SUBMIT_NEEDS_APP = (
    f"Name the application: `{COMMAND} submit <app>` (`{COMMAND} apps` lists them)."
)

# Audit log read-back.

AUDIT_EMPTY = "The audit log has no entries matching that."


def audit_heading(count: int) -> str:
    return f"The newest {count} audit entries (newest first, times in UTC):"


def audit_cut(shown: int, total: int, failed: str | None) -> str:
    """Under an audit table too long for one message."""
    if failed is None:
        return (
            f"Showing the newest {shown} of {total} entries; all {total} are in "
            "a CSV file in your direct messages with this app."
        )
    return (
        f"Showing the newest {shown} of {total} entries (the CSV file could not "
        f"be uploaded: {failed}). Narrow them with `user=`, `action=` or a "
        "smaller `limit=`."
    )


AUDIT_CSV_TITLE = "JARVICE Slack audit log"


# Start-up, for the operator (stderr).


def socket_mode_refused(error: str) -> str:
    return (
        f"Slack refused SLACK_APP_TOKEN ({error}), so the app stopped: generate "
        "an app-level token with the connections:write scope under Basic "
        "Information > App-Level Tokens, set it as SLACK_APP_TOKEN and start "
        "again."
    )
