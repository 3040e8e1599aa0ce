"""At the terminal: the live status line of a crawl under a pseudo-terminal (and none off one), the run's honest
summary, and `archiver status` on the replica's archive, as text and JSON."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import sqlite3
import subprocess
import sys

import pytest

from archiver.cli import crawl_command, project_root
from archiver.replica import ReplicaSite, serve_replica
from conftest import CRAWL_SETTINGS, rows, run_crawl

# LogStats every second: its "Crawled N pages (at N pages/min)" line shows whether the status line replaced it.
SETTINGS = CRAWL_SETTINGS + ["DOWNLOAD_DELAY=0.02", "LOGSTATS_INTERVAL=1"]


def crawl_in_a_terminal(seeds, db) -> tuple[int, str]:
    """A real crawl whose stdin, stdout and stderr are a pseudo-terminal; returns its exit code and what it wrote."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "300", "LINES": "40", "TERM": "xterm"}
    process = subprocess.Popen(crawl_command(seeds, db, SETTINGS), cwd=project_root(), env=env,
                               stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    written = bytearray()
    while True:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the crawl has ended and closed the terminal
                break
            if not chunk:
                break
            written += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(timeout=60), written.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    """A first crawl of the replica in a terminal, then an incremental one with stderr a pipe, into one archive."""
    db = tmp_path_factory.mktemp("terminal") / "archive.db"
    site = ReplicaSite(articles_per_language=34, seed=5)
    with serve_replica(site, port=0) as server:
        terminal = crawl_in_a_terminal(server.seeds, db)
        piped = run_crawl(server.seeds, db, SETTINGS[len(CRAWL_SETTINGS):])
    return terminal, piped, db


def status_lines(output: str, mark: str) -> list[str]:
    """The status display's lines holding ``mark`` (it writes each as it refreshes)."""
    return [line for line in re.split(r"[\r\n]", output) if mark in line]


def test_status_line_in_a_terminal(crawls):
    (code, output), _, _ = crawls
    assert code == 0, output[-3000:]
    done, pace = status_lines(output, "pages done"), status_lines(output, "pages/s")
    assert done and pace, output[-3000:]
    last = done[-1]
    for words in ("pages done", "queued", "articles", "new", "updated", "unchanged", "listing pages", "media",
                  "errors"):
        assert words in last, last
    assert re.search(r"articles [1-9]\d* new", last), last
    assert all(re.search(r"[\d.]+ pages/s · left: ", line) for line in pace), pace
    assert any(re.search(r"left: (\d+ listing pages? queued in \d+ sections? \([a-z_]+ \d+|no listing page queued)", line)
               for line in pace)
    assert any("queue empty in ≥" in line for line in pace)  # the estimate, while pages were queued
    # Log lines still print, above it; Scrapy's per-minute line does not; the summary comes after the status line.
    assert "[scrapy.core.engine] INFO: Spider opened" in output
    assert "pages/min" not in output
    assert output.rindex("archiver: run 1 finished") > output.rindex("pages done")
    assert "Traceback" not in output


def test_no_status_line_off_a_terminal(crawls):
    _, piped, _ = crawls
    assert piped.returncode == 0, piped.log[-3000:]
    assert "pages done" not in piped.log and "\x1b[" not in piped.log
    assert "pages/min" in piped.log  # Scrapy's LogStats line, as before


def test_summary_counts_each_outcome_under_its_own_name(crawls):
    _, piped, db = crawls
    first, second = rows(db, "select * from crawl_runs order by id")
    assert first["articles_new"] == rows(db, "select count(*) from articles")[0][0] > 60
    assert first["articles_unchanged"] == 0  # a page fetched twice is not an unchanged article
    assert first["pages_refetched"] >= 0 and first["articles_restored"] >= 0
    summary = next(line for line in piped.log.splitlines() if line.startswith("archiver: run 2 "))
    assert re.search(r"0 new, \d+ updated, \d+ unchanged, \d+ gone, \d+ re-stored under another URL, "
                     r"\d+ fetched twice;", summary), summary
    assert f"{second['pages_refetched']} fetched twice" in summary


def archiver(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archiver.cli", *args], cwd=project_root(), capture_output=True,
                          text=True, timeout=120)


def test_status_as_text(crawls):
    _, _, db = crawls
    articles = rows(db, "select count(*) from articles")[0][0]
    verified = archiver("verify", "--db", str(db))
    assert verified.returncode == 0, verified.stdout[-2000:]
    done = archiver("status", "--db", str(db))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"Archive {db}: {articles} articles (0 gone)" in out
    assert re.search(r"By language: (en|ru) \d+, (ru|en) \d+\n", out)
    assert re.search(r"\n  en news_odkb: \d+\n", out)
    assert re.search(r"run 2 .* incremental +finished, exit 0: 0 new", out), out
    assert re.search(rf"run 1 .* first +finished, exit 0: {articles} new", out), out
    assert re.search(r"Revisits due: \d+\n", out)
    assert "Last verify: ok at " in out
    assert re.search(r"WARC store .*/warc: [1-9]\d* files, [\d.]+ (KB|MB)", out), out
    assert "Media store" in out


def test_status_as_json(crawls):
    _, _, db = crawls
    done = archiver("status", "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    articles = rows(db, "select count(*) from articles")[0][0]
    assert status["articles"] == articles and set(status["by_language"]) == {"en", "ru"}
    assert sum(status["by_language"].values()) == sum(row["articles"] for row in status["by_section"]) == articles
    assert status["first_published"] <= status["last_published"]
    assert [run["id"] for run in status["runs"]] == [2, 1]
    assert status["runs"][1]["status"] == "finished" and status["runs"][1]["exit_code"] == 0
    assert isinstance(status["revisits_due"], int)
    assert status["warc"]["bytes"] > 0 and status["warc"]["files"] >= 1
    assert set(status["media"]) == {"path", "files", "bytes"}


def test_status_without_a_revisit_schedule(crawls, tmp_path):
    """An archive whose pages table has no next_revisit column: no revisit scheduled."""
    _, _, db = crawls
    copy = tmp_path / "archive.db"
    shutil.copy(db, copy)
    with sqlite3.connect(copy) as conn:
        for (index,) in conn.execute("select name from sqlite_master where type = 'index' and tbl_name = 'pages' "
                                     "and sql like '%next_revisit%'").fetchall():
            conn.execute(f"drop index {index}")
        conn.execute("alter table pages drop column next_revisit")
    done = archiver("status", "--db", str(copy))
    assert done.returncode == 0, done.stderr
    assert "Revisits due: not scheduled" in done.stdout
    assert json.loads(archiver("status", "--db", str(copy), "--json").stdout)["revisits_due"] is None
    assert "Last verify: never" in done.stdout
