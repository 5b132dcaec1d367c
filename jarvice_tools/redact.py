"""Keeping API keys out of logs and messages.

The client never puts the key in a URL (it POSTs form fields), so httpx's
INFO line per request carries no secret. This filter is the second line of
defence: any `apikey=...` or `"apikey": "..."` that still reaches a log record
is masked before a handler sees it.
"""

from __future__ import annotations

import logging
import re

__all__ = [
    "MASK",
    "RedactingFilter",
    "install_handler_redaction",
    "install_log_redaction",
    "redact",
]

MASK = "***"

_PATTERNS = (
    re.compile(r"(?i)(apikey=)[^&\s\"'<>]+"),
    re.compile(r"(?i)(['\"]apikey['\"]\s*:\s*['\"])[^'\"]*"),
)


def redact(text: str, *secrets: str) -> str:
    """`text` with API-key parameters and each given secret masked."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Masks API keys in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = RedactingFilter()


LIBRARY_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "jarvice_tools.client",
)
"""The loggers that see requests. A logger's filters apply only to records
logged on that very logger, not on its children, so each is named."""


def install_log_redaction(*names: str) -> None:
    """Attach the redacting filter to the named loggers (idempotent)."""
    for name in names or LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def install_handler_redaction(logger: logging.Logger | None = None) -> None:
    """Attach the redacting filter to every handler of `logger` (the root by
    default): handlers see records from all loggers below them, so a program
    that configures logging calls this once after doing so."""
    for handler in (logger or logging.getLogger()).handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
