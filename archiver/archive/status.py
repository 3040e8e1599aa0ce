"""``archiver status``: what an archivist asks first about an archive, as text or JSON.

The articles by language and section, the first and last publication dates, the last five runs and how
they ended, the articles due for a revisit (``pages.next_revisit``; "not scheduled" in an archive whose
``pages`` has no such column), the last ``archiver verify`` result, and the size of the WARC and media
stores (``warc/`` and ``media/`` next to the archive).

``archiver verify`` records its result in ``<archive>.verify.json`` next to the archive (the archive
itself is opened read-only by verify, and may be held by a running crawl): :func:`record_verify`.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from ..clock import utc_now
from ..stores import store_dir

RUNS_SHOWN = 5


def verify_record_path(db: str | Path) -> Path:
    """Where ``archiver verify`` records its last result: ``data/archive.db`` -> ``data/archive.verify.json``."""
    db = Path(db)
    return db.with_name(db.stem + ".verify.json")


def record_verify(db: str | Path, exit_code: int, repair: bool = False) -> None:
    """Record a verification of ``db`` that ended with ``exit_code`` (0 everything checked out, 1 problems,
    75 a crawl held the archive). Nothing is recorded for an archive that does not exist, or where the
    record cannot be written (the check itself has been done and printed)."""
    if not Path(db).exists():
        return
    outcome = {0: "ok", 1: "problems", 75: "not run: a crawl held the archive"}.get(exit_code, f"exit {exit_code}")
    record = {"checked_at": utc_now(), "outcome": outcome, "exit_code": exit_code, "repair": repair}
    try:
        verify_record_path(db).write_text(json.dumps(record) + "\n")
    except OSError:
        pass


def last_verify(db: str | Path) -> dict | None:
    try:
        return json.loads(verify_record_path(db).read_text())
    except (OSError, ValueError):
        return None


def store_size(directory: Path) -> dict:
    """Files and bytes under ``directory`` (zero when it does not exist)."""
    files = [path for path in directory.rglob("*") if path.is_file()] if directory.is_dir() else []
    return {"path": str(directory), "files": len(files), "bytes": sum(path.stat().st_size for path in files)}


def _columns(conn, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def revisits_due(conn) -> int | None:
    """Archived articles whose next revisit is due now; ``None`` when the archive schedules no revisits."""
    if "next_revisit" not in _columns(conn, "pages"):
        return None
    return conn.execute("SELECT count(*) FROM pages WHERE kind = 'article' AND next_revisit IS NOT NULL "
                        "AND next_revisit <= ?", [utc_now()]).fetchone()[0]


def last_runs(conn, limit: int = RUNS_SHOWN) -> list[dict]:
    wanted = ["id", "started", "finished", "status", "mode", "exit_code", "requests", "errors", "articles_new",
              "articles_updated", "articles_unchanged", "articles_gone", "articles_restored", "pages_refetched",
              "degraded", "finish_reason"]
    present = [column for column in wanted if column in _columns(conn, "crawl_runs")]
    rows = conn.execute(f"SELECT {', '.join(present)} FROM crawl_runs ORDER BY id DESC LIMIT ?", [limit])
    return [dict(zip(present, row)) for row in rows]


def gather(db: str | Path) -> dict:
    """Everything ``archiver status`` shows, as a JSON-ready dict. Raises ``sqlite3.Error`` on a missing
    or unreadable archive."""
    db = Path(db)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        articles = conn.execute("SELECT count(*), min(published), max(published) FROM articles").fetchone()
        by_language = conn.execute("SELECT coalesce(language, '?'), count(*) FROM articles GROUP BY 1 "
                                   "ORDER BY 2 DESC, 1").fetchall()
        by_section = conn.execute("SELECT coalesce(language, '?'), coalesce(section, '?'), count(*) FROM articles "
                                  "GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2").fetchall()
        gone = conn.execute("SELECT count(*) FROM articles WHERE status = 'gone'").fetchone()[0]
        status = {
            "archive": str(db),
            "articles": articles[0],
            "gone": gone,
            "first_published": articles[1],
            "last_published": articles[2],
            "by_language": dict(by_language),
            "by_section": [{"language": lang, "section": section, "articles": count}
                           for lang, section, count in by_section],
            "runs": last_runs(conn),
            "revisits_due": revisits_due(conn),
        }
    finally:
        conn.close()
    status["last_verify"] = last_verify(db)
    status["warc"] = store_size(store_dir(db, "warc"))
    status["media"] = store_size(store_dir(db, "media"))
    return status


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def run_line(run: dict) -> str:
    counts = ", ".join(f"{run[key]} {name}" for key, name in (
        ("articles_new", "new"), ("articles_updated", "updated"), ("articles_unchanged", "unchanged"),
        ("articles_gone", "gone"), ("articles_restored", "re-stored"), ("pages_refetched", "fetched twice"))
        if run.get(key) is not None)
    outcome = run["status"] + (f", exit {run['exit_code']}" if run.get("exit_code") is not None else "")
    why = f"; degraded: {run['degraded']}" if run.get("degraded") else ""
    return (f"  run {run['id']}  {(run['started'] or '')[:16].replace('T', ' ')}  {run.get('mode') or ''}  "
            f"{outcome}: {counts or 'no counts'}; {run.get('requests') or 0} requests, "
            f"{run.get('errors') or 0} errors{why}")


def as_text(status: dict) -> str:
    lines = [f"Archive {status['archive']}: {status['articles']} articles ({status['gone']} gone), published "
             f"{status['first_published'] or '-'} to {status['last_published'] or '-'}"]
    lines.append("By language: " + (", ".join(f"{lang} {count}" for lang, count in status["by_language"].items())
                                    or "none"))
    lines.append("By section:")
    lines += [f"  {row['language']} {row['section']}: {row['articles']}" for row in status["by_section"]] or \
        ["  none"]
    lines.append(f"Last {RUNS_SHOWN} runs:" if status["runs"] else "Runs: none yet")
    lines += [run_line(run) for run in status["runs"]]
    due = status["revisits_due"]
    lines.append(f"Revisits due: {'not scheduled' if due is None else due}")
    verified = status["last_verify"]
    lines.append("Last verify: " + (f"{verified['outcome']} at {verified['checked_at']}"
                                    + (" (with --repair)" if verified.get("repair") else "")
                                    if verified else "never (archiver verify --db ...)"))
    for name in ("warc", "media"):
        store = status[name]
        lines.append(f"{name.upper() if name == 'warc' else 'Media'} store {store['path']}: {store['files']} files, "
                     f"{human_bytes(store['bytes'])}")
    return "\n".join(lines)


def status_command(arguments) -> int:
    status = gather(arguments.db)
    if arguments.json:
        json.dump(status, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print(as_text(status))
    return 0
