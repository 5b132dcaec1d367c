"""Every sentence the alerts part of the Slack app says, in one place.

Slack mrkdwn: *bold*, `code`, <@U123> mentions a user, <#C123> a channel.
"""

from __future__ import annotations

from collections.abc import Sequence

COMMAND = "/jarvice"

STATUS_EMOJI = {
    "COMPLETED": ":white_check_mark:",
    "COMPLETED WITH ERROR": ":x:",
    "TERMINATED": ":octagonal_sign:",
    "CANCELED": ":no_entry_sign:",
}
STARTED_EMOJI = ":arrow_forward:"
UNKNOWN_EMOJI = ":grey_question:"

FIELD_APP = "App"
FIELD_MACHINE = "Machine"
FIELD_WALLTIME = "Walltime"
FIELD_OWNER = "Owner"
FIELD_LABEL = "Label"
BUTTON_OUTPUT = "Full output"
BUTTON_METRICS = "Metrics"
OUTPUT_HEADING = "*Last lines of output*"
NO_OUTPUT = "_The job printed nothing._"


def emoji(status: str) -> str:
    return STATUS_EMOJI.get(status, UNKNOWN_EMOJI)


def alert_title(number: int, status: str) -> str:
    return f"{emoji(status)} *Job {number} {status}*"


def alert_fallback(number: int, status: str, name: str) -> str:
    return f"{emoji(status)} Job {number} {status}: {name}"


def machine(machine_type: str | None, nodes: int | None) -> str:
    if not machine_type:
        return "unknown"
    return f"{machine_type} x {nodes or 1}"


def output_error(error: Exception) -> str:
    """Why a failed job's output is missing from its alert, in a few words."""
    status = getattr(error, "status_code", None)
    said = getattr(error, "server_message", None)
    if status is not None:
        return (
            f"JARVICE answered {status} ({said})"
            if said
            else f"JARVICE answered {status}"
        )
    return "JARVICE could not be reached"


def output_unavailable(reason: str) -> str:
    return f"_The output could not be fetched: {reason}_"


def started_fallback(number: int, name: str) -> str:
    return f"{STARTED_EMOJI} Job {number} started: {name}"


def started_title(number: int) -> str:
    return f"{STARTED_EMOJI} *Job {number} started*"


def ended_title(number: int, status: str, walltime: str | None) -> str:
    took = f" after {walltime}" if walltime else ""
    return f"{emoji(status)} *Job {number} started, then ended {status}{took}*"


def summary_fallback(count: int) -> str:
    return f"{count} jobs finished; details in the thread."


def summary_title(count: int, tally: Sequence[tuple[str, int]]) -> str:
    parts = ", ".join(f"{emoji(status)} {n} {status}" for status, n in tally)
    return f"*{count} jobs finished*: {parts}. Each alert is in the thread."


def summary_line(number: int, status: str, name: str) -> str:
    return f"{emoji(status)} {number} `{name}`"


def summary_more(count: int) -> str:
    return f"... and {count} more in the thread."


def channel_gone_notice(
    channel: str, reason: str, *, turned_off: int, jobs: Sequence[int]
) -> str:
    """What an administrator and the people who set up alerts in a channel
    are told when the bot can no longer post there."""
    said = (
        f":warning: I can no longer post job alerts to <#{channel}> (Slack said "
        f"`{reason}`)."
    )
    if jobs:
        listed = ", ".join(str(number) for number in jobs)
        said += (
            f" The alert for job {listed} was not posted (`{COMMAND} status "
            f"{listed}` shows how it ended)."
            if len(jobs) == 1
            else f" The alerts for jobs {listed} were not posted (`{COMMAND} "
            f"status <job>` shows how each ended)."
        )
    if turned_off:
        subscriptions = "subscription" if turned_off == 1 else "subscriptions"
        return (
            f"{said} I turned off its {turned_off} {subscriptions} instead of "
            f"retrying forever. To resume, invite me to the channel and run "
            f"`{COMMAND} subscribe` there again."
        )
    return (
        f"{said} Invite me to the channel before you next use `{COMMAND} watch` "
        f"or submit a job there."
    )


# Commands: usage and help.

WATCH_SUMMARY = "Tell this channel once when a job ends: watch <job number>."
SUBSCRIBE_SUMMARY = (
    "Alert this channel when jobs end: subscribe [mine|team|user=<name>] "
    "[status=all|failures] [app=<id>]."
)
SUBSCRIPTIONS_SUMMARY = "List this channel's job alerts."
UNSUBSCRIBE_SUMMARY = "Stop an alert: unsubscribe <id> (or all)."
ALERTS_SUMMARY = (
    "Show or change how this channel gets alerts: alerts [threads=on|off] "
    "[broadcast=on|off] [starts=on|off] [summaries=on|off]."
)
NOTIFY_SUMMARY = "Choose how you hear of your own jobs' alerts: notify mention|dm|none."

SUBSCRIBE_HELP = (
    f"`{COMMAND} subscribe` alerts this channel when your jobs end. Choose whose "
    "jobs: `mine` (the default), `team` (your whole team; team admins), or "
    "`user=<jarvice user>` (one member of your team; team admins). Choose which "
    "ends: `status=all` (the default) or `status=failures` (COMPLETED WITH "
    "ERROR, TERMINATED and CANCELED). Narrow to one application with "
    "`app=<id>`. JARVICE is asked with your own account."
)


def usage(action: str, summary: str) -> str:
    return f"Usage: `{COMMAND} {action}`. {summary}"


def not_linked(action: str) -> str:
    return (
        f"`{action}` watches jobs with your own JARVICE account, and your Slack "
        f"account is not linked yet: run `{COMMAND} login` first."
    )


def must_be(valid: str, given: str | None) -> str:
    """A field problem (the app's argument error names the field)."""
    got = f" (got `{given}`)" if given else ""
    return f"must be {valid}{got}"


def not_an_argument(action: str, valid: str) -> str:
    return f"is not an argument of {action} ({valid})"


def not_understood(word: str, valid: str) -> str:
    return f"`{word}` is not understood; give {valid}"


def job_number_needed(given: str | None) -> str:
    return must_be("a job number such as 123065", given) + (
        f"; `{COMMAND} jobs` lists yours"
    )


def subscription_id_needed(given: str | None) -> str:
    return must_be("a subscription id such as 3, or all", given) + (
        f"; `{COMMAND} subscriptions` lists them"
    )


def jarvice_refused(message: str) -> str:
    return f"JARVICE could not be asked: {message}"


# Commands: outcomes.


def watching(number: int, name: str, status: str) -> str:
    return (
        f":eyes: Watching job {number} (`{name}`, {status}): this channel will hear "
        "once when it ends."
    )


def already_watching(number: int) -> str:
    return f"This channel already watches job {number}; it will hear once when it ends."


def already_ended(number: int, status: str) -> str:
    return (
        f"Job {number} has already ended ({emoji(status)} {status}), so there is "
        f"nothing to watch. `{COMMAND} output {number}` shows how it went."
    )


def describe_subscription(
    scope: str,
    owner: str | None,
    job_number: int | None,
    failures_only: bool,
    app: str | None,
    requester: str,
) -> str:
    if scope == "job":
        what = f"job {job_number}"
    elif scope == "team":
        what = f"the jobs of {owner or requester}'s team"
    else:
        what = f"{owner or requester}'s jobs"
    which = "when they fail" if failures_only else "when they end"
    if scope == "job":
        which = "if it fails" if failures_only else "when it ends"
    narrowed = f", app `{app}` only" if app else ""
    return f"{what}, {which}{narrowed}"


def subscribed(number: int, description: str) -> str:
    return (
        f":bell: Subscription #{number}: this channel hears about {description}. "
        f"`{COMMAND} subscriptions` lists this channel's alerts."
    )


def already_subscribed(number: int) -> str:
    return f"This channel already has that alert (#{number}); nothing changed."


def team_admin_needed(what: str, reason: str, *, team: bool) -> str:
    who = "each member" if team else "them"
    return (
        f"Only a team admin can subscribe a channel to {what}, and JARVICE did not "
        f"let your account list a team ({reason}). Ask {who} to run "
        f"`{COMMAND} subscribe mine` here instead."
    )


def not_in_team(user: str) -> str:
    return (
        f"`{user}` is not a member of your JARVICE team, so their jobs cannot be "
        f"watched with your account. Ask them to run `{COMMAND} subscribe mine` here."
    )


NO_SUBSCRIPTIONS = (
    f"This channel has no job alerts. `{COMMAND} subscribe` adds one; "
    f"`{COMMAND} watch <job>` follows a single job."
)


def subscriptions_heading(count: int) -> str:
    return f"*This channel's job alerts ({count})*"


def subscription_line(number: int, description: str, by: str) -> str:
    return f"`#{number}` {description} (set up by <@{by}>)"


def subscriptions_footer() -> str:
    return f"`{COMMAND} unsubscribe <id>` removes one; `unsubscribe all` removes all."


def unsubscribed(numbers: Sequence[int]) -> str:
    listed = ", ".join(f"#{n}" for n in numbers)
    return f":no_bell: Removed {listed}. This channel no longer gets those alerts."


def no_such_subscription(given: str) -> str:
    return (
        f"This channel has no alert `{given}`. `{COMMAND} subscriptions` lists the ids."
    )


def channel_settings(threads: bool, broadcast: bool, starts: bool, bursts: bool) -> str:
    def on(flag: bool) -> str:
        return "on" if flag else "off"

    return (
        "*Alert settings for this channel*\n"
        f"threads={on(threads)}: later messages about a job go in the thread of "
        "its first one\n"
        f"broadcast={on(broadcast)}: a final alert in a thread is also shown in "
        "the channel\n"
        f"starts={on(starts)}: a message when a watched job starts running\n"
        f"summaries={on(bursts)}: many alerts at once become one summary with "
        f"the alerts in its thread\n"
        f"Change with e.g. `{COMMAND} alerts threads=off`."
    )


def notify_set(choice: str) -> str:
    meaning = {
        "mention": "alerts about your jobs mention you",
        "dm": "alerts about your jobs name you, and you also get a direct message",
        "none": "alerts about your jobs name you without notifying you",
    }[choice]
    return f"Done: {meaning}."


def notify_current(choice: str) -> str:
    return (
        f"You are notified of your jobs' alerts by: `{choice}`. Change with "
        f"`{COMMAND} notify mention|dm|none`."
    )


# Buttons on an alert.


def output_heading(number: int) -> str:
    return f"*Output of job {number}*"


def metrics_text(
    number: int, cpu: float | None, used_kb: int | None, total_kb: int | None
) -> str:
    if cpu is None and used_kb is None:
        return f"JARVICE has no metrics for job {number} (they exist while it runs)."
    memory = ""
    if used_kb is not None and total_kb:
        memory = f", memory {used_kb / 1048576:.1f} of {total_kb / 1048576:.1f} GiB"
    cpu_text = f"CPU {cpu:.0f}%" if cpu is not None else "CPU unknown"
    return f"*Metrics of job {number}*: {cpu_text}{memory}."
