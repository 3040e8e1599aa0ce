"""The ``archiver rebuild`` command: arguments in, one summary line (or one error line) and an exit code out.

Exit codes: 0 done; 2 a bad argument (an unknown profile); 65 a damaged WARC record (nothing written);
66 no input (a path that does not exist, a file that is not a WARC); 74 a write failed (disk full);
75 another process (a crawl) holds the archive; 130 interrupted (Ctrl-C: what was written stays).
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path

from ..profiles import load_profile
from ..stores import store_dir
from .progress import display
from .records import BadInput, warc_paths
from .run import INTERRUPTED, LOCKED, WRITE_FAILED, ArchiveLocked, Rebuild

BAD_ARGUMENT = 2


def default_processes() -> int:
    """One extraction worker per core (none on one core), as a crawl's ``EXTRACTION_PROCESSES=auto``."""
    from ..crawl.workers import default_processes as crawl_default
    return crawl_default()


def rebuild_command(arguments) -> int:
    db = Path(arguments.db)
    inputs = arguments.warc or [store_dir(db, "warc")]
    media_dir = Path(arguments.media_dir) if arguments.media_dir else store_dir(db, "media")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        profile = load_profile(arguments.profile)
    except (ValueError, OSError) as error:
        return _fail(str(error), BAD_ARGUMENT)
    processes = default_processes() if arguments.processes is None else max(0, arguments.processes)
    try:
        paths = warc_paths(inputs)
        outcome = Rebuild(db, paths, arguments.profile, profile, processes, media_dir, display()).run()
    except BadInput as error:
        return _fail(f"{error} (nothing written)" if error.exit_code == 65 else str(error), error.exit_code)
    except ArchiveLocked as error:
        return _fail(f"the archive is in use ({error}); try again once that process is done", LOCKED)
    except (sqlite3.Error, OSError) as error:
        return _fail(f"cannot write the archive {db}: {error}", WRITE_FAILED)
    except KeyboardInterrupt:
        return _fail("interrupted; the articles written so far are kept (run it again to finish)", INTERRUPTED)
    print(outcome.summary(), file=sys.stderr)
    return 0


def _fail(message: str, code: int) -> int:
    print(f"archiver rebuild: {message}", file=sys.stderr)
    return code
