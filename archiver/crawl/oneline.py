"""Failures in one line: log records without tracebacks, and the line that tells why a run failed.

A crawl logs what went wrong as it goes; a traceback says where in the code, which helps a developer and
buries the cause for everyone else (cron mails it all). So unless tracebacks are asked for
(``-s LOG_LEVEL=DEBUG``, or ``scrapy crawl news --traceback``), a record's exception is told in one line,
after its message (:class:`OneLineFormatter`). Scrapy's robots.txt middleware logs a robots.txt it cannot
download as an ERROR with a traceback, though the crawl goes on as if robots.txt allowed everything: that
becomes one warning (:class:`RobotsTxtWarning`), as any other page that fails is.

:func:`failure_hint` turns a failed run's cause into the next step to take, for the last line on stderr.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

ROBOTSTXT_LOGGER = "scrapy.downloadermiddlewares.robotstxt"

# The exception types Scrapy counts (downloader/exception_type_count/<type>) -> what they mean to a user.
NETWORK_CAUSES = (
    ("DNSLookupError", "DNS lookup failed"),
    ("CannotResolveHost", "DNS lookup failed"),
    ("ConnectionRefused", "the connection was refused"),
    ("TimeoutError", "the connection timed out"),
    ("TCPTimedOut", "the connection timed out"),
    ("NoRouteError", "there is no route to the host"),
    ("ConnectionLost", "the connection was lost"),
    ("SSLError", "the TLS handshake failed"),
)
DEMO_HINT = "without network, try `archiver demo` (a crawl of the bundled replica site)"


def tracebacks_wanted(settings) -> bool:
    """Tracebacks are printed with ``-s LOG_LEVEL=DEBUG`` or ``--traceback`` (the ``LOG_TRACEBACKS`` setting)."""
    return settings.getbool("LOG_TRACEBACKS") or str(settings.get("LOG_LEVEL", "")).upper() == "DEBUG"


def exception_line(exc_info) -> str:
    """``Type: message`` of a record's exception."""
    error = exc_info[1] if isinstance(exc_info, tuple) else exc_info
    if error is None:
        return ""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class OneLineFormatter(logging.Formatter):
    """A formatter that tells a record's exception in one line, after its message, not as a traceback.

    The record's cached traceback text is left as it was: another handler may still print it whole."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_text
        record.exc_text = None
        try:
            return super().format(record)
        finally:
            record.exc_text = saved

    def formatException(self, exc_info) -> str:
        return ""  # the exception's line goes into the message instead (formatMessage)

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        if record.exc_info:
            line = exception_line(record.exc_info)
            if line and line.split(": ", 1)[-1] not in text:
                text += f" ({line})"
        return text.replace("\n", " ") if record.exc_info else text

    def formatStack(self, stack_info: str) -> str:
        return ""


def one_line_formatter(formatter: logging.Formatter | None) -> OneLineFormatter:
    """A one-line formatter with ``formatter``'s format and date format (colours are lost: plain text)."""
    style = getattr(formatter, "_style", None)
    fmt = getattr(style, "_fmt", None) or logging.BASIC_FORMAT
    fmt = fmt.replace("%(log_color)s", "")
    return OneLineFormatter(fmt=fmt, datefmt=getattr(formatter, "datefmt", None))


def install(settings) -> None:
    """Unless tracebacks are wanted: the root logger's handlers print records in one line, and an unreadable
    robots.txt is a warning. Called once the crawl's log handler is in place."""
    logging.getLogger(ROBOTSTXT_LOGGER).addFilter(RobotsTxtWarning(keep_traceback=tracebacks_wanted(settings)))
    if tracebacks_wanted(settings):
        return
    for handler in logging.getLogger().handlers:
        if not isinstance(handler, logging.NullHandler) and not isinstance(handler.formatter, OneLineFormatter):
            handler.setFormatter(one_line_formatter(handler.formatter))


class RobotsTxtWarning(logging.Filter):
    """Scrapy's "Error downloading <robots.txt's page>" ERROR, with its traceback, as one warning: the crawl
    goes on as if robots.txt allowed everything, and the page itself is fetched (and fails, if it does).
    With tracebacks wanted, the warning keeps its traceback."""

    def __init__(self, keep_traceback: bool = False):
        super().__init__()
        self.keep_traceback = keep_traceback

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.exc_info:
            cause = exception_line(record.exc_info)
            request = record.args.get("request") if isinstance(record.args, dict) else None
            record.msg = "%s could not be read (%s): crawling as if it allowed everything"
            record.args = (robots_url(request.url) if request is not None else "robots.txt", cause)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            if not self.keep_traceback:
                record.exc_info, record.exc_text = None, None
        return True


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def network_cause(stats: dict) -> str | None:
    """The most frequent network error of the run, in words (``None`` when there was none)."""
    counts = {key.rsplit("/", 1)[-1]: value for key, value in stats.items()
              if key.startswith("downloader/exception_type_count/")}
    for name, _ in sorted(counts.items(), key=lambda item: -item[1]):
        for mark, words in NETWORK_CAUSES:
            if mark in name:
                return words
    return None


def failure_hint(failure: str, stats: dict) -> str:
    """The failed run's cause with the next step to take, for its last line on stderr."""
    if failure.startswith("nothing fetched") or failure == "every seed failed":
        cause = network_cause(stats)
        return (f"{failure}" + (f" ({cause})" if cause else "")
                + f": check the seed URLs and the network; {DEMO_HINT}")
    if "unhandled errors" in failure:
        return f"{failure}: see the ERROR lines above (-s LOG_LEVEL=DEBUG or --traceback shows where)"
    return failure
