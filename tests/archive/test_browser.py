"""One real browser check: headless Chromium renders Datasette's search page over a crawled archive."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from archiver.archive import explore
from archiver.cli import project_root
from datasette_helpers import copy_archive, serve_datasette

ARTIFACTS = project_root() / "test-artifacts"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("no chromium here (apt-get install chromium)")
    return found


def run_chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", "--window-size=1280,1000", *extra, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_search_page_renders_highlighted_results(first_crawl, tmp_path):
    path = copy_archive(first_crawl.db_path, tmp_path / "data")
    explore.refresh(path)
    with sqlite3.connect(path) as conn:
        title = conn.execute("SELECT title FROM articles WHERE language = 'ru' AND text LIKE '%терроризму%' "
                             "ORDER BY published DESC LIMIT 1").fetchone()[0]
    with serve_datasette(path.parent) as server:
        url = server.url("/archive/search", q="терроризма", language="")
        dom = run_chromium(url, tmp_path / "profile", "--dump-dom")
        assert dom.returncode == 0, dom.stderr[-2000:]
        html = dom.stdout
        assert "<mark>терроризму</mark>" in html, html[:3000]
        assert title in html
        assert "<table" in html and "rows-and-columns" in html
        assert 'href="/archive/articles/' in html  # the article column links its row page
        ARTIFACTS.mkdir(exist_ok=True)
        screenshot = ARTIFACTS / "datasette-search.png"
        screenshot.unlink(missing_ok=True)
        shot = run_chromium(url, tmp_path / "profile", f"--screenshot={screenshot}", "--hide-scrollbars")
        assert shot.returncode == 0, shot.stderr[-2000:]
        assert screenshot.stat().st_size > 20_000
        assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
