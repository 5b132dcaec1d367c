"""vcrpy set-up for the client's cassettes: secrets scrubbed at record time,
requests matched on their scrubbed bodies, nothing unplanned allowed.

The recorder is given the callers' API keys and replaces those values
wherever they appear (URI, headers, request and response bodies, however
they are quoted); `pullsecret` and `password` values sent in a request are
learned on the way and replaced the same way in everything recorded after.
`check_written` refuses a cassette that still holds any of them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import vcr
import yaml
from vcr.request import Request

PLACEHOLDER = "<APIKEY>"
SECRET_PLACEHOLDER = "<SECRET>"
MASKED_FIELDS = frozenset({"apikey", "pullsecret", "password"})
"""Request fields whose values are secrets."""
CASSETTES = Path(
    os.environ.get("JARVICE_TOOLS_CASSETTES", Path(__file__).parents[1] / "cassettes")
)
KEY_FIELD = re.compile(r"(?i)(apikey\\?[\"']?\s*[=:]\s*\\?[\"']?)([^&\"'\s,}\\]+)")
"""An apikey form field or JSON member (also inside an escaped JSON string)."""
SECRET_FIELD = re.compile(
    r"(?i)(\\?\"(?:pullsecret|password)\\?\"\s*:\s*\\?\")([^\"\\]+)"
)
"""A pullsecret or password JSON member (also inside an escaped JSON string)."""


class SecretLeft(RuntimeError):
    """A cassette still held a secret after scrubbing; it was deleted."""


def _placeholder(field: str) -> str:
    return PLACEHOLDER if field == "apikey" else SECRET_PLACEHOLDER


def _mask_fields(value: Any) -> Any:
    """A JSON value with every apikey, pullsecret and password masked."""
    if isinstance(value, dict):
        return {
            key: _placeholder(key)
            if key in MASKED_FIELDS and isinstance(item, str)
            else _mask_fields(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_mask_fields(item) for item in value]
    return value


def _secret_values(value: Any) -> Iterator[tuple[str, str]]:
    """(field, value) of each apikey, pullsecret and password in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in MASKED_FIELDS and isinstance(item, str) and item:
                yield key, item
            else:
                yield from _secret_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _secret_values(item)


def _text(body: bytes | str) -> str:
    return body.decode() if isinstance(body, bytes) else body


def scrub_body(body: bytes | str | None) -> bytes | None:
    """A request body with its apikey, pullsecret and password fields
    replaced by placeholders: what is recorded, and what replays match on."""
    if body is None:
        return None
    text = _text(body)
    if text.lstrip().startswith("{"):
        return json.dumps(_mask_fields(json.loads(text)), sort_keys=True).encode()
    pairs = [
        (key, _placeholder(key) if key in MASKED_FIELDS else value)
        for key, value in parse_qsl(text, keep_blank_values=True)
    ]
    return urlencode(pairs).encode()


class Scrubber:
    """Replaces the secrets it knows, and the patterns of others, in all that
    the recorder writes."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self.secrets = {key: PLACEHOLDER for key in keys if key}

    def learn(self, body: bytes | str | None) -> None:
        """Remember the secret values a JSON body carries (a pullsecret, say).
        vcrpy may hand over a request already scrubbed: placeholders are not
        learned."""
        if body is None or not _text(body).lstrip().startswith("{"):
            return
        for field, value in _secret_values(json.loads(_text(body))):
            if value not in (PLACEHOLDER, SECRET_PLACEHOLDER):
                self.secrets.setdefault(value, _placeholder(field))

    def known(self, text: str) -> str:
        """`text` with every known secret masked, wherever it stands."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, self.secrets[secret])
        return text

    def text(self, text: str) -> str:
        """`text` with every known secret and every key-like field masked."""
        text = KEY_FIELD.sub(lambda m: m.group(1) + PLACEHOLDER, self.known(text))
        return SECRET_FIELD.sub(lambda m: m.group(1) + SECRET_PLACEHOLDER, text)

    def request(self, request: Request) -> Request:
        """No secret, and no host: replays match on the path, so the recording
        does not depend on which port the sandbox happened to get."""
        self.learn(request.body)
        body = scrub_body(request.body)
        request.body = None if body is None else self.known(body.decode()).encode()
        uri = urlunsplit(urlsplit(request.uri)._replace(netloc="recorded.invalid"))
        request.uri = self.text(uri)
        request.headers.pop("Host", None)
        for name, value in list(request.headers.items()):
            request.headers[name] = self.text(value)
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        headers = response["headers"]
        for name in [n for n in headers if n.lower() == "date"]:
            del headers[name]
        for name, values in headers.items():
            headers[name] = [self.text(value) for value in values]
        body = response["body"]["string"]
        if isinstance(body, bytes) and not body.startswith(b"\x89PNG"):
            response["body"]["string"] = self.text(body.decode()).encode()
        elif isinstance(body, str):
            response["body"]["string"] = self.text(body)
        return response

    def left_in(self, text: str) -> list[str]:
        """The kind (placeholder) of each known secret `text` still holds;
        never the values themselves, which must not reach a log."""
        return [self.secrets[secret] for secret in self.secrets if secret in text]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode(errors="replace")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def check_written(path: Path, scrubber: Scrubber) -> None:
    """Delete the cassette at `path` and raise `SecretLeft` if it still holds
    a secret the scrubber knows (read as written and as YAML decodes it)."""
    raw = path.read_text(errors="replace")
    decoded = "\n".join(_strings(yaml.safe_load(raw)))
    left = scrubber.left_in(raw) + scrubber.left_in(decoded)
    if left:
        path.unlink()
        raise SecretLeft(
            f"{path} still held {len(left)} secret value(s) ({', '.join(left)}) "
            "after scrubbing, so it was deleted. Extend the scrubbing in "
            "tests/contract/cassettes.py before recording again."
        )


def _same_body(first: Request, second: Request) -> None:
    if scrub_body(first.body) != scrub_body(second.body):
        raise AssertionError("request bodies differ")


def recorder(*, record: bool, scrubber: Scrubber | None = None) -> vcr.VCR:
    """A VCR that writes new cassettes (`record=True`) or only replays.
    Recording scrubs with `scrubber`, which should know the callers' keys."""
    scrubber = scrubber or Scrubber()
    machine = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if record else "none",
        match_on=["method", "path", "jarvice_body"],
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        decode_compressed_response=True,
    )
    machine.register_matcher("jarvice_body", _same_body)
    return machine
