"""Modals: linking an account, running a container, running an application.

Each form opens at once (a trigger id lives about three seconds), with a
"loading" view when JARVICE must be asked first, then is filled in with
`views.update`. A submission is checked before anything is sent and the
problems shown next to their fields; JARVICE is asked only once the form
is valid, and the answer arrives through the slash command's response_url
(kept in the view's private metadata).
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr, ValidationError
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from jarvice_tools.actions import registry
from jarvice_tools.appdefs import check_submission
from jarvice_tools.errors import (
    FieldProblem,
    InvalidParameters,
    JarviceError,
    Unauthorized,
)
from jarvice_tools.models import AppDef, AppParameter, MachineCatalog
from jarvice_tools.redact import redact
from jarvice_tools.settings import Caller, Credentials
from slack_bot import messages
from slack_bot.args import describe_arguments
from slack_bot.blocks import context, plain, section
from slack_bot.router import CommandContext, Reply
from slack_bot.store import AuditEntry

if TYPE_CHECKING:
    from slack_bot.bot import SlackBot

__all__ = [
    "BATCH_CALLBACK",
    "LOGIN_CALLBACK",
    "SUBMIT_CALLBACK",
    "AppDefCache",
    "Submission",
    "on_batch_submission",
    "on_login_submission",
    "on_submit_submission",
    "open_batch",
    "open_login",
    "open_submit",
]

logger = logging.getLogger("slack_bot")

LOGIN_CALLBACK = "jarvice_login"
BATCH_CALLBACK = "jarvice_batch"
SUBMIT_CALLBACK = "jarvice_submit"
ANSWER_BUDGET = 2.2
"""Seconds a form submission may wait for JARVICE before the ack is sent."""
MAX_OPTIONS = 100
UPLOAD_LIMIT = 3000
"""Characters a Slack text input takes at most (its max_length limit)."""
METADATA_LIMIT = 3000
"""Characters Slack keeps in a view's private_metadata."""
KEY_LIKE = 16
"""A login username this long could be an API key typed into the wrong
field: it is masked in what the form shows back."""
MAX_PARAMETERS = 80


# Reading submitted views.


@dataclass(frozen=True)
class Submission:
    user_id: str
    team_id: str | None
    view_id: str | None
    values: dict[str, dict[str, Any]]
    metadata: dict[str, Any]

    @classmethod
    def of(cls, body: dict[str, Any]) -> Submission:
        view = body.get("view") or {}
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except json.JSONDecodeError:
            metadata = {}
        return cls(
            user_id=str((body.get("user") or {}).get("id", "")),
            team_id=(body.get("team") or {}).get("id"),
            view_id=view.get("id"),
            values=(view.get("state") or {}).get("values") or {},
            metadata=metadata if isinstance(metadata, dict) else {},
        )

    def text(self, block_id: str, *, strip: bool = True) -> str | None:
        """A text or number input's value (stripped unless told), or a
        select's choice."""
        state = (self.values.get(block_id) or {}).get("value") or {}
        if state.get("selected_option"):
            return str(state["selected_option"].get("value", "")) or None
        if "selected_options" in state:
            return "true" if state["selected_options"] else "false"
        value = state.get("value")
        if value is None or not str(value).strip():
            return None
        return str(value).strip() if strip else str(value)

    def respond(self) -> AsyncRespond:
        return AsyncRespond(response_url=self.metadata.get("response_url"))


def _metadata(ctx: CommandContext, **extra: Any) -> str:
    data = {"response_url": ctx.response_url, "channel": ctx.channel_id, **extra}
    return json.dumps(data)


def _modal(
    callback_id: str,
    title: str,
    blocks: list[dict[str, Any]],
    *,
    metadata: str = "",
    submit: str | None = None,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "close": plain(messages.LOGIN_CLOSE, 24),
        "blocks": blocks,
        "private_metadata": metadata,
    }
    if submit:
        view["submit"] = plain(submit, 24)
    return view


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id[:255],
        "label": plain(label, 2000),
        "optional": optional,
        "element": {"action_id": "value", **element},
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _text_input(
    initial: str | None = None, *, multiline: bool = False, placeholder: str = ""
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline}
    if initial:
        element["initial_value"] = initial
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    return element


def _number_input(
    *,
    decimal: bool,
    initial: Any = None,
    low: Any = None,
    high: Any = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "number_input", "is_decimal_allowed": decimal}
    for key, value in (
        ("initial_value", initial),
        ("min_value", low),
        ("max_value", high),
    ):
        if _is_number(value):
            element[key] = str(value)
    return element


def _is_number(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _select(options: list[tuple[str, str]], initial: str | None) -> dict[str, Any]:
    choices = [
        {"text": plain(label), "value": value[:150]}
        for value, label in options[:MAX_OPTIONS]
    ]
    element: dict[str, Any] = {"type": "static_select", "options": choices}
    chosen = next((c for c in choices if c["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def _loading_view(callback_id: str, metadata: str) -> dict[str, Any]:
    return _modal(
        callback_id,
        messages.LOADING_TITLE,
        [section(messages.LOADING)],
        metadata=metadata,
    )


def _note_view(text: str) -> dict[str, Any]:
    """A submit form replaced by a message (nothing left to submit)."""
    return _modal(SUBMIT_CALLBACK, messages.SUBMIT_TITLE, [section(text)])


def _failed_view(callback_id: str, reason: str) -> dict[str, Any]:
    return _modal(
        callback_id, messages.LOADING_TITLE, [section(messages.form_failed(reason))]
    )


# Login.


def login_view(metadata: str) -> dict[str, Any]:
    blocks = [
        section(messages.LOGIN_INTRO),
        _input("username", messages.LOGIN_USERNAME, _text_input()),
        _input(
            "apikey",
            messages.LOGIN_APIKEY,
            _text_input(),
            hint=messages.LOGIN_APIKEY_HINT,
        ),
    ]
    return _modal(
        LOGIN_CALLBACK,
        messages.LOGIN_TITLE,
        blocks,
        metadata=metadata,
        submit=messages.LOGIN_SUBMIT,
    )


async def open_login(ctx: CommandContext) -> Reply | None:
    """`/jarvice login`: the form (any words typed after it are ignored)."""
    await ctx.client.views_open(
        trigger_id=ctx.trigger_id, view=login_view(_metadata(ctx))
    )
    if ctx.text:
        return Reply(messages.LOGIN_ARGS_IGNORED, outcome="form-opened")
    ctx.audit_arguments = ""
    return None


async def on_login_submission(
    bot: SlackBot, ack: AsyncAck, body: dict[str, Any]
) -> None:
    """Check the username and key with JARVICE, then save them encrypted.

    The username is logged and audited only once JARVICE accepted it: until
    then it may be anything, an API key typed into the wrong field included."""
    form = Submission.of(body)
    username = form.text("username") or ""
    apikey = form.text("apikey") or ""
    errors = _login_errors(username, apikey)
    if errors:
        await ack(response_action="errors", errors=errors)
        await _audit_login(bot, form, "invalid")
        return
    credentials = Credentials(username=username, apikey=SecretStr(apikey))
    check = asyncio.ensure_future(_check_login(bot, credentials))
    done, _ = await asyncio.wait({check}, timeout=ANSWER_BUDGET)
    if not done:
        await ack(response_action="update", view=_login_note(messages.LOGIN_CHECKING))
    problem = await check
    if problem is not None and done:
        field, reason = problem
        await ack(response_action="errors", errors={field: reason})
        await _audit_login(bot, form, "refused")
        return
    if problem is None:
        if done:
            await ack()
        await bot.store.links.save(
            form.user_id, credentials, slack_team_id=form.team_id
        )
        text, outcome = messages.linked(username), "linked"
    else:
        text, outcome = messages.login_failed(problem[1]), "refused"
    if not done and form.view_id:
        await _update_quietly(bot, form.view_id, _login_note(text))
    await bot.send(form.respond(), Reply(text))
    verified = username if outcome == "linked" else None
    await _audit_login(bot, form, outcome, verified)


def _login_errors(username: str, apikey: str) -> dict[str, str]:
    errors = {}
    if not username:
        errors["username"] = messages.LOGIN_EMPTY_USERNAME
    if not apikey:
        errors["apikey"] = messages.LOGIN_EMPTY_APIKEY
    return errors


def _login_note(text: str) -> dict[str, Any]:
    return _modal(LOGIN_CALLBACK, messages.LOGIN_TITLE, [section(text)])


async def _audit_login(
    bot: SlackBot, form: Submission, outcome: str, verified: str | None = None
) -> None:
    """Log and audit a login; `verified` is the username JARVICE accepted."""
    shown = verified or messages.UNVERIFIED
    logger.info("login by %s as %s -> %s", form.user_id, shown, outcome)
    await _audit_view(
        bot, form, "login", outcome, f"username={shown}", jarvice_username=verified
    )


async def _check_login(
    bot: SlackBot, credentials: Credentials
) -> tuple[str, str] | None:
    """None when JARVICE accepts the credentials, else (field, reason)."""
    client = bot.jarvice.for_caller(Caller(credentials=credentials))
    try:
        await client.run(registry.JOBS, {})
    except Unauthorized:
        return "apikey", messages.LOGIN_REFUSED
    except JarviceError as error:
        typed = credentials.username
        reason = redact(str(error), typed if len(typed) >= KEY_LIKE else "")
        return "username", messages.login_unreachable(reason)
    return None


# Running a container.


async def open_batch(ctx: CommandContext) -> Reply | None:
    """`/jarvice batch` without arguments: a form with the caller's machines."""
    metadata = _metadata(ctx)
    opened = await ctx.client.views_open(
        trigger_id=ctx.trigger_id, view=_loading_view(BATCH_CALLBACK, metadata)
    )
    view_id = str((opened.get("view") or {}).get("id", ""))
    try:
        catalog = await ctx.need_jarvice().run(registry.MACHINES, {})
    except JarviceError as error:
        await ctx.client.views_update(
            view_id=view_id, view=_failed_view(BATCH_CALLBACK, str(error))
        )
        return Reply(
            messages.form_failed(str(error)), outcome=f"error:{type(error).__name__}"
        )
    await ctx.client.views_update(view_id=view_id, view=batch_view(catalog, metadata))
    return None


def batch_view(catalog: MachineCatalog, metadata: str) -> dict[str, Any]:
    options = _machine_options(catalog, patterns=None)
    if not options:
        return _failed_view(BATCH_CALLBACK, messages.NO_MACHINES)
    blocks = [
        _input(
            "image",
            messages.FORM_IMAGE,
            _text_input(placeholder="library/ubuntu:jammy"),
            hint=messages.FORM_IMAGE_HINT,
        ),
        _input("script", messages.FORM_SCRIPT, _text_input(multiline=True)),
        _input("machine", messages.FORM_MACHINE, _select(options, options[0][0])),
        _input(
            "nodes", messages.FORM_NODES, _number_input(decimal=False, initial=1, low=1)
        ),
        _input(
            "vault",
            messages.FORM_VAULT,
            _text_input(),
            optional=True,
            hint=messages.FORM_VAULT_HINT,
        ),
        _input("label", messages.FORM_LABEL, _text_input(), optional=True),
    ]
    return _modal(
        BATCH_CALLBACK,
        messages.BATCH_TITLE,
        blocks,
        metadata=metadata,
        submit=messages.SUBMIT_BUTTON,
    )


_BATCH_FIELDS = {
    "container.image": "image",
    "container.jobscript": "script",
    "container": "image",
    "machine.type": "machine",
    "machine.nodes": "nodes",
    "machine": "machine",
    "vault.name": "vault",
    "vault": "vault",
    "job_label": "label",
}


async def on_batch_submission(
    bot: SlackBot, ack: AsyncAck, body: dict[str, Any]
) -> None:
    form = Submission.of(body)
    raw: dict[str, Any] = {
        "container": {"image": form.text("image"), "jobscript": form.text("script")},
        "machine": {"type": form.text("machine"), "nodes": form.text("nodes") or 1},
    }
    if form.text("vault"):
        raw["vault"] = {"name": form.text("vault")}
    if form.text("label"):
        raw["job_label"] = form.text("label")
    try:
        params = registry.BATCH.parse(raw)
    except InvalidParameters as error:
        await ack(
            response_action="errors",
            errors=_errors(list(error.problems), _BATCH_FIELDS, "image"),
        )
        await _audit_view(bot, form, "batch", "invalid", describe_arguments(None))
        return
    await ack()
    await _submit_job(bot, form, registry.BATCH, params)


# Running an application.


class AppDefCache:
    """AppDefs fetched for open forms, kept a while so the submission can be
    checked without asking JARVICE again (per user: visibility differs)."""

    def __init__(self, ttl: float = 900.0) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[str, str], tuple[float, AppDef]] = {}

    def put(self, user: str, app: str, appdef: AppDef) -> None:
        now = time.monotonic()
        self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        self._entries[(user, app)] = (now + self.ttl, appdef)

    def get(self, user: str, app: str) -> AppDef | None:
        found = self._entries.get((user, app))
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]


async def open_submit(
    ctx: CommandContext, app: str, command: str | None
) -> Reply | None:
    """`/jarvice submit <app> [command=<name>]`: a form from the AppDef."""
    metadata = _metadata(ctx, app=app, command=command)
    opened = await ctx.client.views_open(
        trigger_id=ctx.trigger_id, view=_loading_view(SUBMIT_CALLBACK, metadata)
    )
    view_id = str((opened.get("view") or {}).get("id", ""))
    jarvice = ctx.need_jarvice()
    try:
        appdef, catalog = await asyncio.gather(
            jarvice.run(registry.APPDEF, {"name": app}),
            jarvice.run(registry.MACHINES, {}),
        )
    except JarviceError as error:
        await ctx.client.views_update(
            view_id=view_id, view=_failed_view(SUBMIT_CALLBACK, str(error))
        )
        return Reply(
            messages.form_failed(str(error)), outcome=f"error:{type(error).__name__}"
        )
    chosen = command or next(iter(appdef.commands), None)
    if chosen is None or chosen not in appdef.commands:
        problem = check_submission(appdef, chosen or "", {}).problems[0]
        await ctx.client.views_update(
            view_id=view_id, view=_failed_view(SUBMIT_CALLBACK, str(problem))
        )
        return Reply(messages.form_failed(str(problem)), outcome="invalid")
    ctx.bot.appdefs.put(ctx.user_id, app, appdef)
    carried = _carried_appdef(appdef, chosen)
    metadata = _metadata(ctx, app=app, command=chosen, appdef=carried)
    if len(metadata) > METADATA_LIMIT:
        metadata = _metadata(ctx, app=app, command=chosen)
    view = submit_view(app, appdef, chosen, catalog, metadata)
    await ctx.client.views_update(view_id=view_id, view=view)
    return None


def submit_view(
    app: str, appdef: AppDef, command: str, catalog: MachineCatalog, metadata: str
) -> dict[str, Any]:
    spec = appdef.commands[command]
    title = f"*{appdef.name or app}*: `{command}`"
    if spec.description:
        title += f"\n{spec.description[:500]}"
    blocks: list[dict[str, Any]] = [section(title)]
    others = [name for name in appdef.commands if name != command]
    if others:
        blocks.append(context(messages.other_commands(app, others)))
    for key, parameter in list(spec.parameters.items())[:MAX_PARAMETERS]:
        blocks.append(_parameter_block(key, parameter))
    options = _machine_options(catalog, patterns=spec.machines or appdef.machines)
    if not options:
        return _failed_view(SUBMIT_CALLBACK, messages.NO_MACHINES)
    blocks += [
        _input("machine", messages.FORM_MACHINE, _select(options, options[0][0])),
        _input(
            "nodes", messages.FORM_NODES, _number_input(decimal=False, initial=1, low=1)
        ),
        _input(
            "walltime",
            messages.FORM_WALLTIME,
            _text_input(spec.walltime),
            optional=True,
            hint=messages.FORM_WALLTIME_HINT,
        ),
        _input(
            "vault",
            messages.FORM_VAULT,
            _text_input(),
            optional=True,
            hint=messages.FORM_VAULT_HINT,
        ),
    ]
    return _modal(
        SUBMIT_CALLBACK,
        messages.SUBMIT_TITLE,
        blocks,
        metadata=metadata,
        submit=messages.SUBMIT_BUTTON,
    )


def _parameter_block(key: str, spec: AppParameter) -> dict[str, Any]:
    label = spec.name or key
    hint = (spec.description or "")[:2000] or None
    block_id = f"p:{key}"
    optional = not spec.required
    kind = spec.type
    if kind == "CONST":
        return context(f"{messages.FORM_CONST}: `{key}` = `{spec.value}`")
    if kind == "BOOL":
        option = {"text": plain(label), "value": "true"}
        element: dict[str, Any] = {"type": "checkboxes", "options": [option]}
        if spec.value is True or str(spec.value).lower() == "true":
            element["initial_options"] = [option]
        return _input(block_id, label, element, optional=True, hint=hint)
    if kind == "selection":
        options = _choices(spec)
        element = _select(options, _chosen(spec, options))
        return _input(block_id, label, element, optional=optional, hint=hint)
    if kind in ("INT", "RANGE", "FLOAT"):
        element = _number_input(
            decimal=kind == "FLOAT", initial=spec.value, low=spec.min, high=spec.max
        )
        return _input(block_id, label, element, optional=optional, hint=hint)
    if kind == "UPLOAD":
        return _upload_block(block_id, label, spec, hint)
    if kind == "FILE" and spec.filter:
        hint = f"{hint + ' ' if hint else ''}({spec.filter})"
    initial = spec.value if isinstance(spec.value, str) else None
    return _input(block_id, label, _text_input(initial), optional=optional, hint=hint)


def _choices(spec: AppParameter) -> list[tuple[str, str]]:
    """A selection's options as (value sent, label shown): the machine value
    (`mvalues`) under its display value, or the value itself without them."""
    shown = spec.values or []
    sent = spec.mvalues if spec.mvalues and len(spec.mvalues) == len(shown) else shown
    return list(zip(sent, shown, strict=True))


def _chosen(spec: AppParameter, options: list[tuple[str, str]]) -> str | None:
    """The option to preselect: the default (given as either value), else the
    first, which JARVICE takes as the default."""
    for sent, shown in options:
        if str(spec.value) in (sent, shown):
            return sent
    return options[0][0] if options else None


def _upload_block(
    block_id: str, label: str, spec: AppParameter, hint: str | None
) -> dict[str, Any]:
    """An UPLOAD parameter takes the file's content, which JARVICE writes to
    the parameter's target: a multi-line input within the size allowed."""
    limit = min(_as_size(spec.size) or UPLOAD_LIMIT, UPLOAD_LIMIT)
    element = _text_input(multiline=True)
    element["max_length"] = limit
    about = messages.upload_hint(spec.target, spec.filter, limit)
    return _input(
        block_id,
        label,
        element,
        optional=not spec.required,
        hint=f"{hint} {about}" if hint else about,
    )


def _as_size(size: int | str | None) -> int | None:
    try:
        return int(str(size)) if size not in (None, "") else None
    except ValueError:
        return None


_SUBMIT_FIELDS = {
    "machine.type": "machine",
    "machine.nodes": "nodes",
    "machine": "machine",
    "application.walltime": "walltime",
    "vault.name": "vault",
    "vault": "vault",
}


async def on_submit_submission(
    bot: SlackBot, ack: AsyncAck, body: dict[str, Any]
) -> None:
    form = Submission.of(body)
    app = str(form.metadata.get("app") or "")
    command = str(form.metadata.get("command") or "")
    caller = await bot.caller(form.user_id)
    if caller is None:
        await ack(response_action="update", view=_note_view(messages.NOT_LINKED))
        await _audit_view(bot, form, "submit", "unlinked", f"app={app}")
        return
    appdef = await _submitted_appdef(bot, form, caller, app)
    if appdef is None:
        await ack(response_action="errors", errors={"machine": messages.form_slow(app)})
        await _audit_view(bot, form, "submit", "error:slow", f"app={app}")
        return
    problems, params = _submit_params(form, app, command, appdef)
    if problems or params is None:
        await ack(
            response_action="errors",
            errors=_errors(problems, _SUBMIT_FIELDS, "machine"),
        )
        await _audit_view(
            bot, form, "submit", "invalid", f"app={app} command={command}"
        )
        return
    await ack()
    await _submit_job(bot, form, registry.SUBMIT, params)


def _submit_params(
    form: Submission, app: str, command: str, appdef: AppDef
) -> tuple[list[FieldProblem], BaseModel | None]:
    """The form's values checked against the AppDef: the problems, or the
    submission's parameters."""
    spec = appdef.commands.get(command)
    raw = {}
    for key, parameter in spec.parameters.items() if spec else []:
        if parameter.type != "CONST":
            raw[key] = form.text(f"p:{key}", strip=parameter.type != "UPLOAD")
    checked = check_submission(
        appdef, command, {k: v for k, v in raw.items() if v is not None}
    )
    submission: dict[str, Any] = {
        "app": app,
        "application": {
            "command": command,
            "parameters": checked.values,
            "walltime": form.text("walltime"),
        },
        "machine": {"type": form.text("machine"), "nodes": form.text("nodes") or 1},
    }
    if form.text("vault"):
        submission["vault"] = {"name": form.text("vault")}
    try:
        params = registry.SUBMIT.parse(submission)
    except InvalidParameters as error:
        return [*checked.problems, *error.problems], None
    return list(checked.problems), params


def _carried_appdef(appdef: AppDef, command: str) -> dict[str, Any]:
    """What checking a submission of `command` needs from the AppDef, small
    enough to travel in the form's private metadata: any replica, later,
    checks the form without asking JARVICE again."""
    parameters = {
        key: parameter.model_dump(
            mode="json",
            include=_CHECKED_KEYS,
            exclude_none=True,
            exclude_defaults=True,
        )
        for key, parameter in appdef.commands[command].parameters.items()
    }
    return {"commands": {command: {"parameters": parameters}}}


_CHECKED_KEYS = {
    "type",
    "required",
    "value",
    "min",
    "max",
    "step",
    "precision",
    "values",
    "mvalues",
    "filter",
    "size",
}


async def _submitted_appdef(
    bot: SlackBot, form: Submission, caller: Caller, app: str
) -> AppDef | None:
    """The AppDef to check a submitted form against: the part carried in the
    form, else this replica's cache, else JARVICE's (within budget)."""
    carried = form.metadata.get("appdef")
    if isinstance(carried, dict):
        try:
            return AppDef.model_validate(carried)
        except ValidationError:
            logger.info("the submit form carried an unreadable AppDef")
    cached = bot.appdefs.get(form.user_id, app)
    if cached is not None or not app:
        return cached
    try:
        appdef = await asyncio.wait_for(
            bot.jarvice.for_caller(caller).run(registry.APPDEF, {"name": app}),
            timeout=ANSWER_BUDGET,
        )
    except (TimeoutError, JarviceError):
        return None
    bot.appdefs.put(form.user_id, app, appdef)
    return appdef


# Shared.


async def _submit_job(
    bot: SlackBot, form: Submission, action: Any, params: Any
) -> None:
    """Send a checked submission as the form's user and answer through the
    command's response_url."""
    from slack_bot.actions import announce_submission
    from slack_bot.render import render

    caller = await bot.caller(form.user_id)
    if caller is None:
        reply = Reply(messages.NOT_LINKED, outcome="unlinked")
    else:
        try:
            result = await bot.jarvice.for_caller(caller).run(action, params)
        except JarviceError as error:
            reply = Reply(
                messages.jarvice_error(str(error)),
                outcome=f"error:{type(error).__name__}",
                detail=str(error)[:300],
            )
        else:
            reply = render(action, params, result)
            await announce_submission(
                bot,
                action=action,
                result=result,
                params=params,
                user_id=form.user_id,
                team_id=form.team_id,
                channel_id=form.metadata.get("channel"),
                caller=caller,
            )
    await bot.send(form.respond(), reply)
    await _audit_view(
        bot,
        form,
        action.name,
        reply.outcome,
        describe_arguments(params),
        jarvice_username=caller.username if caller else None,
        detail=reply.detail,
    )


def _errors(
    problems: list[FieldProblem], fields: dict[str, str], fallback: str
) -> dict[str, str]:
    """Field problems as Slack's {block_id: message} for inline errors."""
    errors: dict[str, list[str]] = {}
    for problem in problems:
        where = problem.field
        text = messages.readable(problem.message)
        if where.startswith("application.parameters."):
            block = "p:" + where.removeprefix("application.parameters.")
        elif where in fields:
            block = fields[where]
            if messages.is_generic(problem.message):
                text = messages.FORM_PROBLEMS.get(block, text)
        else:
            block, text = fallback, f"{where}: {text}"
        if text not in errors.get(block, []):
            errors.setdefault(block, []).append(text)
    return {block: "; ".join(texts)[:2000] for block, texts in errors.items()}


def _machine_options(
    catalog: MachineCatalog, patterns: list[str] | None
) -> list[tuple[str, str]]:
    options = []
    for name, machine in sorted(catalog.root.items()):
        if patterns and not any(fnmatch.fnmatch(name, p) for p in patterns):
            continue
        facts = [f"{machine.mc_cores} cores" if machine.mc_cores else None]
        if machine.mc_gpus:
            facts.append(f"{machine.mc_gpus} GPUs")
        if machine.mc_ram:
            facts.append(f"{machine.mc_ram} GB")
        described = ", ".join(f for f in facts if f)
        options.append((name, f"{name}: {described}" if described else name))
    return options


async def _update_quietly(bot: SlackBot, view_id: str, view: dict[str, Any]) -> None:
    try:
        await bot.slack.views_update(view_id=view_id, view=view)
    except SlackApiError as error:
        logger.info(
            "could not update view %s: %s", view_id, error.response.get("error")
        )


async def _audit_view(
    bot: SlackBot,
    form: Submission,
    action: str,
    outcome: str,
    arguments: str,
    *,
    jarvice_username: str | None = None,
    detail: str | None = None,
) -> None:
    await bot.record(
        AuditEntry(
            kind="view",
            slack_user_id=form.user_id,
            slack_team_id=form.team_id,
            channel_id=form.metadata.get("channel"),
            jarvice_username=jarvice_username,
            action=action,
            arguments=arguments,
            outcome=outcome,
            detail=detail,
        )
    )
