"""Real processes of a cluster for the tests: a redis-server of their own, `archiver seed`, workers, the writer."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archiver.cli import crawl_command, project_root

from conftest import CRAWL_SETTINGS, free_port

redis = pytest.importorskip("redis", reason="cluster mode needs the 'cluster' extra: pip install -e '.[cluster]'")
needs_redis_server = pytest.mark.skipif(shutil.which("redis-server") is None,
                                        reason="needs Debian's redis-server (apt-get install redis-server; .ci/run does)")

# Workers close after the cluster had no work for this long; dead workers are noticed after this long.
# Each worker keeps its own pace (the cluster-wide pacing of a host has a test of its own).
CLUSTER_TEST_SETTINGS = ["MAX_IDLE_TIME_BEFORE_CLOSE=2", "CLUSTER_HEARTBEAT_SECONDS=3", "CLUSTER_HOST_DELAY=0"]
INGEST_IDLE_EXIT = 5
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "SCRAPY_SETTINGS_MODULE": "archiver.settings"}
ENV.pop("REDIS_URL", None)


class RedisServer:
    def __init__(self, port: int, process: subprocess.Popen):
        self.port, self.process = port, process

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int):
        return redis.Redis(port=self.port, db=db)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """Our own redis-server on a free loopback port, nothing persisted, stopped afterwards."""
    directory = tmp_path_factory.mktemp("redis")
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)], stdout=open(directory / "redis.log", "w"), stderr=subprocess.STDOUT)
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if process.poll() is not None:
                pytest.fail(f"redis-server exited: {(directory / 'redis.log').read_text()}")
            time.sleep(0.05)
    server = RedisServer(port, process)
    yield server
    process.terminate()
    process.wait(timeout=10)


def seed(url: str, seeds: list[str]) -> str:
    done = subprocess.run([sys.executable, "-m", "archiver.cli", "seed", "--redis-url", url, *seeds],
                          cwd=project_root(), env=ENV, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def start_worker(url: str, seeds: list[str], log: Path, settings=()) -> subprocess.Popen:
    # ARCHIVE_DB points at a file that must never appear: workers do not open SQLite.
    command = crawl_command(seeds, log.parent / "worker-must-not-write.db",
                            CRAWL_SETTINGS + CLUSTER_TEST_SETTINGS + [f"REDIS_URL={url}", *settings])
    return subprocess.Popen(command, cwd=project_root(), env=ENV, stdout=open(log, "a"), stderr=subprocess.STDOUT)


def start_writer(url: str, db: Path, log: Path, idle_exit: float = INGEST_IDLE_EXIT) -> subprocess.Popen:
    command = [sys.executable, "-m", "archiver.cli", "ingest", "--redis-url", url, "--db", str(db),
               "--idle-exit", str(idle_exit)]
    return subprocess.Popen(command, cwd=project_root(), env=ENV, stdout=open(log, "a"), stderr=subprocess.STDOUT)


def wait_all(processes, timeout: float = 90) -> list[int]:
    deadline = time.monotonic() + timeout
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=max(0.1, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            for other in processes:
                other.kill()
            pytest.fail("cluster processes did not finish in time")
    return codes


def articles(db: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("select * from articles").fetchall()


def verify(db: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archiver.cli", "verify", "--db", str(db), *options],
                          cwd=project_root(), env=ENV, capture_output=True, text=True, timeout=120)


def log_text(directory: Path) -> str:
    return "\n".join(path.read_text() for path in sorted(directory.glob("*.log")))
