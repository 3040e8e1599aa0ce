"""An ``archiver`` command that fails ends with one line naming the cause and the next step, and an exit code.

:func:`explain` turns the exceptions a user can meet (a missing or locked archive, an unreachable Redis, a
damaged WARC record, a file that does not read) into that line and a documented exit code (docs/terminal.md);
anything else is told in one line too, with exit 1. ``archiver --traceback COMMAND`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sqlite3
import zlib
from pathlib import Path

EXIT_UNEXPECTED = 1
EXIT_USAGE = 2  # as argparse: an argument the command cannot use (an unknown profile)
EXIT_DATAERR = 65  # a damaged record (EX_DATAERR)
EXIT_NOINPUT = 66  # no archive where one was expected (EX_NOINPUT)
EXIT_UNAVAILABLE = 69  # a service the command needs cannot be reached: Redis (EX_UNAVAILABLE)
EXIT_IOERR = 74  # a file that does not read or write (EX_IOERR)
EXIT_TEMPFAIL = 75  # the archive is locked by another process: try again later (EX_TEMPFAIL)
EXIT_INTERRUPTED = 130  # Ctrl-C, as the shell reports it
EXIT_BROKEN_PIPE = 141  # the reader of the output went away (`| head`), as the shell reports SIGPIPE

CRAWL_FIRST = "crawl first (scrapy crawl news; archiver demo crawls the bundled replica) or give --db PATH"


def explain(error: BaseException, arguments) -> tuple[str, int]:
    """The one line (without the command's name) and the exit code for ``error`` met by a command."""
    db = getattr(arguments, "db", None)
    if isinstance(error, sqlite3.Error):
        return _archive_error(error, db, arguments.command)
    if _is_redis_error(error):
        url = getattr(arguments, "redis_url", "") or os.environ.get("REDIS_URL", "") or "redis://localhost:6379/0"
        return (f"cannot reach Redis at {url} ({_first_line(error)}): start Redis, or give --redis-url URL "
                f"(or $REDIS_URL)", EXIT_UNAVAILABLE)
    if arguments.command == "show" and _is_damage(error):
        return (f"the capture of article {arguments.article} is damaged ({_first_line(error)}): "
                f"archiver verify --db {db} lists what is damaged, --repair repairs what it can", EXIT_DATAERR)
    if isinstance(error, ValueError) and "site profile" in str(error):
        return f"{_first_line(error)}: give --profile NAME (a bundled profile) or a path to a TOML profile", EXIT_USAGE
    if isinstance(error, OSError) and error.strerror:
        where = f" {error.filename}" if error.filename else ""
        return f"cannot read or write{where}: {error.strerror}", EXIT_IOERR
    return (f"unexpected {type(error).__name__}: {_first_line(error)} (archiver --traceback {arguments.command} "
            f"... shows where)", EXIT_UNEXPECTED)


def _archive_error(error: sqlite3.Error, db, command: str) -> tuple[str, int]:
    text = _first_line(error)
    if db and not Path(db).exists():
        if command == "demo":
            return f"no archive at {db}: the crawl created none (its output above says why)", EXIT_NOINPUT
        return f"no archive at {db}: {CRAWL_FIRST}", EXIT_NOINPUT
    if "locked" in text or "busy" in text:
        return (f"the archive {db} is locked by another process ({text}): try again once it has finished",
                EXIT_TEMPFAIL)
    if "no such table" in text or "not a database" in text or "malformed" in text:
        return (f"{db} is not an archive, or a damaged one ({text}): give --db PATH of an archive; "
                f"archiver verify checks one", EXIT_DATAERR)
    return f"cannot read the archive {db} ({text})", EXIT_IOERR


def _is_redis_error(error: BaseException) -> bool:
    return any(kind.__module__.startswith("redis") and kind.__name__ in ("ConnectionError", "TimeoutError")
               for kind in type(error).__mro__)


def _is_damage(error: BaseException) -> bool:
    if isinstance(error, (ValueError, EOFError, zlib.error)):
        return True
    return any(kind.__name__ == "ArchiveLoadFailed" for kind in type(error).__mro__)


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def silence_stdout() -> None:
    """The reader went away: later writes (the interpreter's last flush) go nowhere instead of failing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
    finally:
        os.close(devnull)
