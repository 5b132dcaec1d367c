"""vcrpy set-up for the client's cassettes: keys scrubbed at record time,
requests matched on their scrubbed bodies, nothing unplanned allowed."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import vcr
from vcr.request import Request

PLACEHOLDER = "<APIKEY>"
CASSETTES = Path(
    os.environ.get("JARVICE_TOOLS_CASSETTES", Path(__file__).parents[1] / "cassettes")
)
_KEY_IN_TEXT = re.compile(r"(?i)(apikey[\"']?\s*[=:]\s*[\"']?)([^&\"'\s,}]+)")


def scrub_body(body: bytes | str | None) -> bytes | None:
    """A request body with every API key replaced by the placeholder."""
    if body is None:
        return None
    text = body.decode() if isinstance(body, bytes) else body
    stripped = text.lstrip()
    if stripped.startswith("{"):
        data = json.loads(text)
        user = data.get("user")
        if isinstance(user, dict) and "apikey" in user:
            user["apikey"] = PLACEHOLDER
        return json.dumps(data, sort_keys=True).encode()
    pairs = [
        (key, PLACEHOLDER if key == "apikey" else value)
        for key, value in parse_qsl(text, keep_blank_values=True)
    ]
    return urlencode(pairs).encode()


def _scrub_request(request: Request) -> Request:
    """No key, and no host: replays match on the path, so the recording
    does not depend on which port the sandbox happened to get."""
    request.body = scrub_body(request.body)
    request.uri = urlunsplit(urlsplit(request.uri)._replace(netloc="recorded.invalid"))
    request.headers.pop("Host", None)
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    for name in [n for n in response["headers"] if n.lower() == "date"]:
        del response["headers"][name]
    body = response["body"]["string"]
    if isinstance(body, bytes) and not body.startswith(b"\x89PNG"):
        text = _KEY_IN_TEXT.sub(lambda m: m.group(1) + PLACEHOLDER, body.decode())
        response["body"]["string"] = text.encode()
    return response


def _same_body(first: Request, second: Request) -> None:
    if scrub_body(first.body) != scrub_body(second.body):
        raise AssertionError("request bodies differ")


def recorder(*, record: bool) -> vcr.VCR:
    """A VCR that writes new cassettes (`record=True`) or only replays."""
    machine = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if record else "none",
        match_on=["method", "path", "jarvice_body"],
        before_record_request=_scrub_request,
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )
    machine.register_matcher("jarvice_body", _same_body)
    return machine
