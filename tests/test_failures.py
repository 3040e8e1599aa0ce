"""Failures a user meets end with one line on stderr, the documented exit code, and no traceback.

Real subprocesses: `scrapy crawl news` against a loopback port nothing listens on and an unresolvable name,
`archiver` commands on a missing, locked or damaged archive and an unreachable Redis.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from archiver.cli import project_root
from archiver.replica import ReplicaSite, serve_replica
from conftest import CRAWL_SETTINGS, free_port, rows, run_crawl

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def scrapy_crawl(db, *args: str, settings=("RETRY_TIMES=0",)) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-s", f"ARCHIVE_DB={db}"]
    for setting in CRAWL_SETTINGS + list(settings):
        command += ["-s", setting]
    return subprocess.run(command + list(args), cwd=project_root(), env=ENV, capture_output=True, text=True,
                          timeout=120)


def archiver(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archiver.cli", *args], cwd=project_root(), env=ENV,
                          capture_output=True, text=True, timeout=120, **kwargs)


def assert_one_line(done: subprocess.CompletedProcess, code: int, *words: str) -> str:
    """Exit ``code``, no traceback anywhere, and stderr's last line names the cause (and the exit code)."""
    assert done.returncode == code, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-3000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("archiver") and last.endswith(f"exit {code}"), last
    for word in words:
        assert word in last, last
    return last


# -- the crawl ----------------------------------------------------------------------------------------------------


def test_unreachable_host_with_its_robots_txt_is_one_warning_and_one_line(tmp_path):
    done = scrapy_crawl(tmp_path / "a.db", "-a", f"start_urls=http://127.0.0.1:{free_port()}/news/")
    last = assert_one_line(done, 3, "the seeds are unreachable", "connection was refused", "archiver demo")
    assert "robots.txt could not be read" in done.stderr  # a warning, not an ERROR with a traceback
    assert " ERROR: " not in done.stderr
    assert "FAILED: nothing fetched" in done.stdout  # the run's summary, as before
    assert last == done.stderr.strip().splitlines()[-1]


def test_dns_failure_in_a_cron_run_prints_one_line(tmp_path):
    done = scrapy_crawl(tmp_path / "a.db", "-a", "start_urls=http://nonexistent.invalid/news/", "--nolog")
    assert_one_line(done, 3, "DNS lookup failed", "archiver demo")
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert len(done.stdout.splitlines()) == 1, done.stdout  # the summary


@pytest.mark.parametrize("argument, words", [
    ("start_urls=notaurl", ["bad seed URL 'notaurl'", "http://"]),
    ("start_urls=file:///x", ["bad seed URL 'file:///x'"]),
    ("start_urls=http://", ["no host name"]),
    ("profile=nope.toml", ["unknown site profile 'nope.toml'", "-a profile=PATH.toml"]),
])
def test_bad_spider_arguments_are_refused_before_the_crawl(tmp_path, argument, words):
    done = scrapy_crawl(tmp_path / "a.db", "-a", argument)
    assert_one_line(done, 2, *words)
    assert not (tmp_path / "a.db").exists()  # nothing started


def test_an_unknown_log_level_is_one_line_and_a_lowercase_one_is_understood(tmp_path):
    done = scrapy_crawl(tmp_path / "a.db", "-s", "LOG_LEVEL=NOPE")
    assert_one_line(done, 2, "unknown LOG_LEVEL 'NOPE'", "WARNING")
    assert done.stderr.count("\n") == 1 and not (tmp_path / "a.db").exists()
    done = scrapy_crawl(tmp_path / "a.db", "-a", f"start_urls=http://127.0.0.1:{free_port()}/news/",
                        "-s", "LOG_LEVEL=warning")
    assert_one_line(done, 3, "the seeds are unreachable")
    assert " INFO: " not in done.stderr and " WARNING: " in done.stderr


def test_unknown_profile_with_nolog_says_so(tmp_path):
    done = scrapy_crawl(tmp_path / "a.db", "-a", "profile=unknown", "--nolog")
    assert_one_line(done, 2, "unknown site profile 'unknown'")
    assert done.stderr.count("\n") == 1 and done.stdout == ""


@pytest.mark.parametrize("asking", [["--traceback"], ["-s", "LOG_LEVEL=DEBUG"]])
def test_tracebacks_when_asked_for(tmp_path, asking):
    done = scrapy_crawl(tmp_path / "a.db", "-a", f"start_urls=http://127.0.0.1:{free_port()}/news/", *asking)
    assert done.returncode == 3
    assert "Traceback" in done.stderr  # the robots.txt middleware's, as Scrapy logs it
    assert done.stderr.strip().splitlines()[-1].endswith("exit 3")  # and the failure's line still last


# -- archiver commands ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A small archive of the replica (one crawl for the module)."""
    directory = tmp_path_factory.mktemp("archive")
    site = ReplicaSite(articles_per_language=34, seed=3)
    with serve_replica(site, port=0) as server:
        done = run_crawl(server.seeds, directory / "archive.db", ["LOG_LEVEL=WARNING"])
    assert done.returncode == 0, done.log[-3000:]
    return directory / "archive.db"


def test_show_on_a_missing_archive(tmp_path):
    assert_one_line(archiver("show", "1", "--db", str(tmp_path / "missing.db")), 66, "no archive at", "--db")


def test_show_on_a_locked_archive(archive, tmp_path):
    copy = tmp_path / "archive.db"
    shutil.copy(archive, copy)
    holder = sqlite3.connect(copy, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE crawl_runs SET pid = pid")
        assert_one_line(archiver("show", "1", "--db", str(copy)), 75, "locked by another process")
    finally:
        holder.close()


def test_show_into_a_closed_pipe_is_silent(archive):
    """`archiver show 1 | head`: the reader is gone before the body is written."""
    process = subprocess.Popen([sys.executable, "-m", "archiver.cli", "show", "1", "--db", str(archive)],
                               cwd=project_root(), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert stderr == ""


def test_show_on_a_damaged_record(archive, tmp_path):
    copy = tmp_path / "archive"
    shutil.copytree(archive.parent, copy)
    db = copy / "archive.db"
    (warc_file, offset), = rows(db, "select warc_file, warc_offset from articles where id = 1")
    with open(copy / "warc" / warc_file, "r+b") as warc:  # the record's gzip member, overwritten
        warc.seek(offset)
        warc.write(b"\x00" * 64)
    done = archiver("show", "1", "--db", str(db))
    assert_one_line(done, 65, "is damaged", "archiver verify")
    assert done.stdout == ""


def test_demo_whose_crawl_created_no_archive(tmp_path):
    """Another process holds the demo archive's lock: the crawl exits at once (75) and writes no archive."""
    from archiver.archive.lock import ArchiveLock

    db = tmp_path / "demo.db"
    lock = ArchiveLock(db)
    lock.acquire()
    try:
        done = archiver("demo", "--db", str(db), "--articles", "34", "--log-level", "WARNING")
    finally:
        lock.release()
    assert_one_line(done, 66, f"no archive at {db}", "the crawl created none")
    assert "another crawl holds" in done.stderr


@pytest.mark.parametrize("command", [["seed"], ["ingest", "--idle-exit", "1"]])
def test_redis_unreachable(tmp_path, command):
    url = f"redis://127.0.0.1:{free_port()}/0"
    done = archiver(*command, "--redis-url", url, *(["--db", str(tmp_path / "a.db")] if "ingest" in command else []))
    assert_one_line(done, 69, f"cannot reach Redis at {url}", "--redis-url")


def test_unknown_profile_of_a_command():
    done = archiver("seed", "--profile", "nope", "--redis-url", f"redis://127.0.0.1:{free_port()}/0")
    assert_one_line(done, 2, "unknown site profile 'nope'", "--profile")


def test_archiver_traceback_option(tmp_path):
    done = archiver("show", "1", "--db", str(tmp_path / "missing.db"), "--traceback")
    assert done.returncode == 1 and "Traceback" in done.stderr and "OperationalError" in done.stderr
