"""Shared fixtures: the replica site over real HTTP on loopback, and real crawls of it."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from archiver.cli import FAST_LOCAL_SETTINGS, crawl_command, project_root
from archiver.replica import ReplicaSite, serve_replica

# The replica's slow article answers after this many seconds the first time;
# the crawls below time out sooner, so the article is only archived after a retry.
SLOW_SECONDS = 3.0
CRAWL_SETTINGS = FAST_LOCAL_SETTINGS + ["DOWNLOAD_TIMEOUT=1.5", "DOWNLOAD_MAXSIZE=5000000", "LOG_LEVEL=INFO"]


@dataclass
class CrawlResult:
    returncode: int
    log: str
    db_path: Path

    def rows(self, sql: str, *params) -> list[sqlite3.Row]:
        with sqlite3.connect(self.db_path) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchall()


def rows(db, sql: str, *params) -> list[sqlite3.Row]:
    """The rows of a query on an archive."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def assert_matches_ground_truth(server, db) -> None:
    """Every article the replica lists is live in the archive, with its title and date, once; the database is sound."""
    truth = {a["url"]: a for a in server.site.ground_truth(server.base_urls)}
    stored = {r["url"]: r for r in rows(db, "select * from articles where status = 'live'")}
    assert set(truth) <= set(stored), sorted(set(truth) - set(stored))[:5]
    for url, expected in truth.items():
        assert stored[url]["title"] == expected["title"], url
        assert stored[url]["published"] == expected["published"], url
    assert rows(db, "select count(*) - count(distinct url) from articles")[0][0] == 0
    assert rows(db, "pragma integrity_check")[0][0] == "ok"


def run_crawl(seeds, db_path, extra_settings=(), args=(), timeout=300) -> CrawlResult:
    """A real ``scrapy crawl news`` subprocess, as an archivist runs it."""
    command = crawl_command(seeds, db_path, CRAWL_SETTINGS + list(extra_settings), args)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(command, cwd=project_root(), env=env, capture_output=True, text=True, timeout=timeout)
    return CrawlResult(done.returncode, done.stdout + done.stderr, Path(db_path))


def free_port() -> int:
    """A loopback port nothing listens on (for servers the tests start, or a seed that must fail)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_crawl(seeds, db_path, extra_settings=(), args=()) -> subprocess.Popen:
    """A real crawl in the background (to be killed, interrupted or raced)."""
    command = crawl_command(seeds, db_path, CRAWL_SETTINGS + list(extra_settings), args)
    return subprocess.Popen(command, cwd=project_root(), env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="session")
def crawl():
    """``crawl(seeds, db_path, extra_settings=(), args=())``: run a real crawl, get a :class:`CrawlResult`."""
    return run_crawl


@pytest.fixture(scope="session")
def replica():
    site = ReplicaSite(articles_per_language=60, seed=1)
    with serve_replica(site, port=0, slow_seconds=SLOW_SECONDS, huge_page_bytes=8_000_000) as server:
        server.site = site
        yield server


@pytest.fixture(scope="session")
def first_crawl(replica, tmp_path_factory):
    """One full crawl of the replica, shared by the tests that only read its results."""
    hits_before = len(replica.hits)
    result = run_crawl(replica.seeds, tmp_path_factory.mktemp("crawl") / "archive.db")
    result.hits = list(replica.hits[hits_before:])
    return result
