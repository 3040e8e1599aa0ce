"""Scrapy's console servers: not loaded by a crawl that leaves them off, working when turned on."""

from __future__ import annotations

import re
import subprocess

from archiver.cli import crawl_command, project_root
from conftest import CRAWL_SETTINGS, free_port


def unreachable_seed() -> str:
    return f"http://127.0.0.1:{free_port()}/news/"


def test_consoles_off_are_never_imported(tmp_path):
    """A default crawl does not import the remote control (and aiohttp with it) nor the telnet console."""
    command = crawl_command([unreachable_seed()], tmp_path / "archive.db", CRAWL_SETTINGS)
    command[1:1] = ["-X", "importtime"]  # python -X importtime -m scrapy crawl news ...
    done = subprocess.run(command, cwd=project_root(), capture_output=True, text=True, timeout=120)
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "scrapy.crawler" in imported, done.stderr[-2000:]  # the listing is there
    assert "scrapy.extensions.remote_control" not in imported
    assert "scrapy.extensions.telnet" not in imported
    assert "aiohttp" not in imported
    assert "ConsoleServers" not in done.stderr  # and a run without them says nothing of them


def test_console_turned_on_for_one_run(crawl, tmp_path):
    """``-s TELNETCONSOLE_ENABLED=1`` opens the telnet console for that run, as in Scrapy."""
    port = free_port()
    result = crawl([unreachable_seed()], tmp_path / "archive.db",
                   ["TELNETCONSOLE_ENABLED=1", f"TELNETCONSOLE_PORT={port},{port}"])
    assert f"Telnet console listening on 127.0.0.1:{port}" in result.log, result.log[-3000:]
    assert result.returncode == 3  # the seed is unreachable: the run failed, and says so


def test_remote_control_turned_on_for_one_run(crawl, tmp_path):
    """``-s REMOTE_CONTROL_ENABLED=1`` starts Scrapy's remote-control server for that run."""
    result = crawl([unreachable_seed()], tmp_path / "archive.db",
                   ["REMOTE_CONTROL_ENABLED=1", f"REMOTE_CONTROL_JOBS_DIR={tmp_path / 'jobs'}"])
    listening = re.search(r"Remote control HTTP server listening on port \d+ \(job ([\w-]+)\)", result.log)
    assert listening, result.log[-3000:]
    assert (tmp_path / "jobs").is_dir()  # its job file was written where the setting says
    assert not (tmp_path / "jobs" / f"{listening.group(1)}.json").exists()  # and removed at the end
