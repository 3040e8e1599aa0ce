"""A real Datasette server on a free loopback port, over a copy of a crawled archive (tests only)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from conftest import free_port


def copy_archive(source: Path, target_dir: Path, name: str = "archive.db") -> Path:
    """A consistent copy of ``source`` (SQLite backup API: the WAL is included)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / name
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


class Server:
    def __init__(self, base: str, process: subprocess.Popen):
        self.base, self.process = base, process

    def url(self, path: str, **params) -> str:
        return self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")

    def get(self, path: str, **params) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url(path, **params), timeout=20) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def json(self, path: str, **params):
        status, body = self.get(path, **params)
        assert status == 200, (path, params, status, body[:500])
        return json.loads(body)


@contextmanager
def serve_datasette(config_dir: Path):
    """``datasette CONFIG_DIR`` exactly as the README says (no other flag but host and port)."""
    port = free_port()
    log = open(config_dir / "datasette.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "datasette", str(config_dir), "-h", "127.0.0.1",
                                "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.get("/-/versions.json")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Datasette did not start: " + (config_dir / "datasette.log").read_text())
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
