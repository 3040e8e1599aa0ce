"""Durability: captures on disk before the rows that point at them, repairs after kills, full disks that cron sees.

Real crawls of a small replica (``scrapy crawl news`` subprocesses), real ``kill -9``, and real full disks: a
small tmpfs mounted for the test (root is needed; the tests say so and skip otherwise).
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from scrapy import Request, signals
from scrapy.core.engine import ExecutionEngine
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from archiver import settings as project
from archiver.archive.crawl_state import CrawlState
from archiver.archive.lock import ArchiveLock
from archiver.archive.run_log import RunLog
from archiver.archive.storage import Archive
from archiver.capture.repair import read_member
from archiver.capture.warc import WarcCaptureMiddleware
from archiver.cli import crawl_command, main as archiver_main, project_root
from archiver.crawl.pipelines import ArchivePipeline
from archiver.crawl.runs import EXIT_IOERR, ArchiveRun
from archiver.replica import ReplicaSite, serve_replica
from archiver.spiders.news import NewsSpider

from conftest import assert_matches_ground_truth, CRAWL_SETTINGS, rows, run_crawl, start_crawl

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture(scope="module")
def site_server():
    """A small replica (the smallest the replica makes), on loopback addresses of its own."""
    site = ReplicaSite(articles_per_language=34, seed=11)
    with serve_replica(site, port=0, hosts=("127.0.0.8", "127.0.0.9"), external_host="127.0.0.10",
                       slow_seconds=0.5, huge_page_bytes=300_000) as server:
        server.site = site
        yield server


@pytest.fixture(scope="module")
def finished(site_server, tmp_path_factory):
    """One finished crawl of the replica, copied by the tests that damage it."""
    directory = tmp_path_factory.mktemp("finished")
    result = run_crawl(site_server.seeds, directory / "archive.db")
    assert result.returncode == 0, result.log[-2000:]
    return directory


def archiver_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archiver.cli", *args], cwd=project_root(), capture_output=True,
                          text=True, timeout=120)


def copy_archive(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock"))
    return target / "archive.db"


SHOWING = threading.Lock()  # sys.stdout is the process's: one show at a time


def show(db: Path, article_id: int, warc_dir: Path | None = None) -> int:
    """``archiver show --raw ID`` in this process (the checks read every article; a subprocess each is slow)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    arguments = ["show", str(article_id), "--db", str(db), "--raw"]
    arguments += ["--warc-dir", str(warc_dir)] if warc_dir else []
    with SHOWING, contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = archiver_main(arguments)
    out.flush()
    assert out.buffer.getvalue().startswith(b"HTTP/1.1 200"), article_id
    return code


def assert_every_capture_reads_back(db: Path, warc_dir: Path | None = None) -> None:
    """``archiver verify`` exits 0 and every article's capture reads back through ``archiver show``."""
    verified = archiver_cli("verify", "--db", str(db), *(["--warc-dir", str(warc_dir)] if warc_dir else []))
    assert verified.returncode == 0, verified.stdout[-3000:]
    articles = rows(db, "select id, warc_file from articles")
    assert articles and all(article["warc_file"] for article in articles)
    for article in articles:
        assert show(db, article["id"], warc_dir) == 0, article["id"]
    sample = archiver_cli("show", str(articles[0]["id"]), "--db", str(db),
                          *(["--warc-dir", str(warc_dir)] if warc_dir else []))
    assert sample.returncode == 0 and "HTTP/1.1 200 OK" in sample.stdout, sample.stderr


# -- durable captures before rows ------------------------------------------------------------------

ARTICLE = "http://127.0.0.2:8765/news/news_odkb/article-{}/"


class Components:
    """The run, the WARC capture and the archive pipeline, built by Scrapy as a crawl builds them (no network)."""

    def __init__(self, db: Path, batch: int):
        self.crawler = get_crawler(NewsSpider, {
            "SITE_PROFILE": project.SITE_PROFILE, "EXTRACTION_PROCESSES": 0, "ARCHIVE_DB": str(db),
            "ARCHIVE_BATCH_SIZE": batch, "EXTENSIONS_BASE": {}, "EXTENSIONS": {ArchiveRun: 100},
            "DOWNLOADER_MIDDLEWARES_BASE": {}, "DOWNLOADER_MIDDLEWARES": {WarcCaptureMiddleware: 950},
            "ITEM_PIPELINES": {ArchivePipeline: 300}, "DOWNLOAD_HANDLERS": {"http": None, "https": None}})
        spider = NewsSpider.from_crawler(self.crawler, start_urls="http://127.0.0.2:8765/news/")
        self.crawler.spider = spider
        self.crawler.engine = ExecutionEngine(self.crawler, lambda _: None)
        self.crawler.signals.send_catch_log(signals.spider_opened, spider=spider)
        self.capture = self.crawler.get_downloader_middleware(WarcCaptureMiddleware)
        self.pipeline = self.crawler.get_item_pipeline(ArchivePipeline)
        self.pipeline.open_spider()
        self.body = (FIXTURES / "replica_en_article.html").read_bytes()

    def fetch_and_archive(self, number: int) -> None:
        """One article page: captured as it comes off the wire, then its item through the archive pipeline."""
        url = ARTICLE.format(number)
        request = Request(url)
        response = HtmlResponse(url, body=self.body + str(number).encode(), request=request,
                                headers={"Content-Type": "text/html; charset=utf-8"})
        self.capture.process_response(request, response)
        warc_file, offset = request.meta["warc_record"]
        self.pipeline.process_item({"url": url, "title": f"Article {number}", "text": f"Text {number}.",
                                    "published": "2025-09-01", "content_hash": f"hash-{number}",
                                    "warc_file": warc_file, "warc_offset": offset})

    def close(self) -> None:
        self.crawler.stats.set_value("response_received_count", 1)
        self.pipeline.close_spider()
        self.crawler.signals.send_catch_log(signals.spider_closed, spider=self.crawler.spider, reason="finished")
        self.crawler.spider.extractor.close()


def test_the_captures_an_article_points_at_are_on_disk_before_the_article_is_committed(tmp_path, monkeypatch):
    db = tmp_path / "archive.db"
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd)))
    warc = os.path.realpath(tmp_path / "warc")
    components = Components(db, batch=3)
    try:
        for number in range(3):
            components.fetch_and_archive(number)
        # The batch is committed: every article it holds reads back from the file as it is on disk now (a
        # kill -9 this moment loses nothing the rows name), and the file was fsync'd once for the batch.
        articles = rows(db, "select url, warc_file, warc_offset from articles")
        assert len(articles) == 3
        for article in articles:
            capture = rows(db, "select * from captures where warc_file = ? and offset = ?", article["warc_file"],
                           article["warc_offset"])[0]
            record, payload = read_member(tmp_path / "warc" / capture["warc_file"], capture["offset"],
                                          capture["length"])
            assert record.rec_headers.get_header("WARC-Target-URI") == article["url"]
        warc_path = os.path.join(warc, articles[0]["warc_file"])
        assert synced.count(warc_path) == 1 and synced.count(warc) == 1, synced
        for number in range(3, 6):
            components.fetch_and_archive(number)
        assert synced.count(warc_path) == 2  # once per batch of ARCHIVE_BATCH_SIZE articles
    finally:
        components.close()
    assert rows(db, "select count(*) from articles")[0][0] == 6
    assert archiver_cli("verify", "--db", str(db)).returncode == 0


def test_an_article_fetched_but_never_stored_keeps_no_validators(tmp_path):
    archive = Archive(tmp_path / "archive.db")
    state = CrawlState(archive, RunLog(archive).open(pid=1))
    url = ARTICLE.format(1)
    state.mark(url, "fetched", kind="article", http_status=200, etag='"e1"', last_modified="Thu, 02 Jan 2025")
    state.mark("http://127.0.0.2:8765/news/", "fetched", kind="listing", http_status=200, etag='"l1"')
    state.flush()
    # The run dies, or fails writing, before the article is stored: its next request is whole, so it is never
    # answered "not modified" and counted unchanged without ever being archived.
    assert state.validators(url) == (None, None)
    assert state.validators("http://127.0.0.2:8765/news/") == ('"l1"', None)
    state.save_articles([{"url": url, "title": "A", "text": "T.", "published": "2025-09-01", "content_hash": "h"}])
    assert state.validators(url) == ('"e1"', "Thu, 02 Jan 2025")
    archive.close()


# -- repairs: what a killed run leaves, and archives written before captures were durable -----------------------


def damage(db: Path, status: str) -> dict:
    """What a run killed before its captures were durable leaves: the WARC file ends in the middle of an
    article's response record (rows and articles point past its end), the rows of the records just before it
    were never committed, and the run is marked ``status``."""
    warc = db.parent / "warc"
    name = rows(db, "select warc_file from captures order by id desc limit 1")[0][0]
    responses = rows(db, "select c.* from captures c join articles a on a.warc_file = c.warc_file and "
                         "a.warc_offset = c.offset where c.warc_file = ? order by c.offset", name)
    cut = responses[len(responses) * 2 // 3]
    lost = rows(db, "select a.id, a.url from articles a join captures c on a.warc_file = c.warc_file and "
                    "a.warc_offset = c.offset where c.warc_file = ? and c.offset >= ?", name, cut["offset"])
    with sqlite3.connect(db) as conn:
        # The last rows before the cut were never committed: their records are whole in the file.
        unlisted = [row[0] for row in conn.execute(
            "select id from captures where warc_file = ? and offset < ? order by offset desc limit 3",
            [name, cut["offset"]])]
        conn.executemany("delete from captures where id = ?", [(row_id,) for row_id in unlisted])
        conn.execute("update crawl_runs set status = ?", [status])
    os.truncate(warc / name, cut["offset"] + cut["length"] // 2)
    return {"file": name, "lost": {row["url"] for row in lost}, "unlisted": len(unlisted)}


def test_a_run_after_a_killed_one_repairs_its_warc_file_and_fetches_the_lost_captures_again(site_server, finished,
                                                                                             tmp_path):
    db = copy_archive(finished, tmp_path / "killed")
    damaged = damage(db, "running")  # as kill -9 leaves it
    assert damaged["lost"]
    assert archiver_cli("verify", "--db", str(db)).returncode == 1
    result = run_crawl(site_server.seeds, db)
    assert result.returncode == 0, result.log[-3000:]
    assert "a torn tail of" in result.log and "WARC files of runs 1 (which did not finish) repaired" in result.log
    assert f"{damaged['unlisted']} whole records no captures row listed indexed" in result.log
    assert rows(db, "select status from crawl_runs order by id") and \
        [row["status"] for row in rows(db, "select status from crawl_runs order by id")] == ["interrupted", "finished"]
    assert_every_capture_reads_back(db)
    refetched = {row["url"] for row in rows(db, "select url from articles where warc_file != ?", damaged["file"])}
    assert damaged["lost"] <= refetched  # each lost capture was fetched again: the article points at the new one
    assert_matches_ground_truth(site_server, db)


def test_verify_repair_by_hand_then_the_next_run_fetches_the_lost_captures_again(site_server, finished, tmp_path):
    db = copy_archive(finished, tmp_path / "old")
    damaged = damage(db, "finished")  # an archive whose later runs finished: only a repair by hand finds it
    with open(db.parent / "warc" / damaged["file"], "ab") as warc:
        warc.write(b"\0" * 4096)  # blocks a power loss left allocated and never written
    lock = ArchiveLock(db)
    lock.acquire()
    try:
        locked = archiver_cli("verify", "--db", str(db), "--repair")
        assert locked.returncode == 75 and "a crawl holds the archive" in locked.stderr
    finally:
        lock.release()
    repaired = archiver_cli("verify", "--db", str(db), "--repair")
    assert repaired.returncode == 0, repaired.stdout[-3000:]
    out = repaired.stdout
    assert re.search(rf"REPAIRED {damaged['file']}: a torn tail of \d+ bytes at \d+ \(a partial record\) truncated",
                     out), out[-3000:]
    for url in damaged["lost"]:
        assert re.search(rf"REPAIRED article \d+ {re.escape(url)}: its capture is lost; the next run fetches it "
                         "again", out), url
    assert f"{len(damaged['lost'])} articles to fetch again" in out and "archiver verify: OK" in out
    again = run_crawl(site_server.seeds, db)
    assert again.returncode == 0, again.log[-3000:]
    assert rows(db, "select mode from crawl_runs order by id desc limit 1")[0][0] == "incremental"
    assert_every_capture_reads_back(db)
    assert_matches_ground_truth(site_server, db)


# -- kill -9 at random moments ------------------------------------------------------------------------------------


def wait_for_runs(db: Path, count: int, timeout: float = 30) -> None:
    """Until the archive holds ``count`` runs (the crawl just started has registered its own)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if rows(db, "select count(*) from crawl_runs")[0][0] >= count:
                return
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    raise AssertionError("the crawl never started")


# Extraction in the crawl's own process: the series' crawls start faster (worker processes and their
# end with a killed crawl are tested in tests/crawl/test_scheduled.py).
# Crawls to be killed go slowly enough (a few seconds for the whole replica) that a kill within 2.5 s of the run's
# start lands in its work on a fast machine too; the final crawl goes at full speed.
KILLED_CRAWL = ["EXTRACTION_PROCESSES=0", "DOWNLOAD_DELAY=0.05", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
FINAL_CRAWL = ["EXTRACTION_PROCESSES=0"]


def kill_series(server, db: Path, chance: random.Random) -> None:
    """Three crawls killed at random moments of their work, then one that runs to its end; then the checks."""
    for number in range(1, 4):
        process = start_crawl(server.seeds, db, KILLED_CRAWL)
        wait_for_runs(db, number)
        time.sleep(chance.uniform(0.0, 2.5))
        process.send_signal(signal.SIGKILL)
        process.communicate()
        assert rows(db, "pragma integrity_check")[0][0] == "ok"
    final = run_crawl(server.seeds, db, FINAL_CRAWL)
    assert final.returncode == 0, final.log[-3000:]
    runs = [row["status"] for row in rows(db, "select status from crawl_runs order by id")]
    # (a killed crawl may have ended before its kill: the replica is small)
    assert len(runs) == 4 and runs[-1] == "finished" and "interrupted" in runs, runs
    assert_every_capture_reads_back(db)
    assert_matches_ground_truth(server, db)


def test_kill_9_at_random_moments_then_a_normal_run_leaves_every_capture_readable(site_server, tmp_path):
    started = time.time()
    chance = random.Random(2323)
    archives = [tmp_path / f"series-{series}" / "archive.db" for series in range(5)]
    # Five series, two at a time, each on an archive of its own.
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda db: kill_series(site_server, db, random.Random(chance.random())), archives))
    assert time.time() - started < 90


# -- a full disk ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def small_disk(path: Path, size: str):
    """A tmpfs of ``size`` mounted on ``path``; yields a function that gives it more room."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here (needs root): {mounted.stderr.strip()}")
    try:
        yield lambda more: subprocess.run(["mount", "-o", f"remount,size={more}", str(path)], check=True)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def crawl_quietly(seeds, db: Path, settings=()) -> subprocess.CompletedProcess:
    """A cron run: ``--nolog``, stdout and stderr apart."""
    command = crawl_command(seeds, db, CRAWL_SETTINGS + list(settings), ["--nolog"])
    return subprocess.run(command, cwd=project_root(), capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("full, error", [
    ("warc", r".*/full/(ARCHIVER-\d+-\d+\.warc\.gz|index\.cdxj): No space left on device"),
    ("db", r".*/full/archive\.db: database or disk is full"),
])
def test_a_full_disk_fails_the_run_with_exit_74_and_the_next_run_completes_the_archive(site_server, tmp_path, full,
                                                                                        error):
    disk = tmp_path / "full"
    db = disk / "archive.db" if full == "db" else tmp_path / "archive.db"
    settings = [f"WARC_DIR={disk}"] if full == "warc" else [f"WARC_DIR={tmp_path / 'warc'}",
                                                            f"MEDIA_DIR={tmp_path / 'media'}"]
    with small_disk(disk, "256k" if full == "warc" else "384k") as more_room:
        failed = crawl_quietly(site_server.seeds, db, settings)
        assert failed.returncode == EXIT_IOERR, (failed.stdout, failed.stderr[-2000:])
        # Cron sees one line on stderr, the run's summary on stdout.
        assert re.fullmatch(rf"archiver: run 1 failed: cannot write {error}; exit 74\n", failed.stderr), failed.stderr
        assert re.fullmatch(rf"archiver: run 1 failed in \d+s: .*; FAILED: cannot write {error}; exit 74\n",
                            failed.stdout), failed.stdout
        run = rows(db, "select * from crawl_runs")[0]
        assert (run["status"], run["exit_code"], run["finish_reason"]) == ("failed", 74, "write_error")
        stopped_after = run["requests"]

        more_room("64m")  # space freed: one ordinary run completes the archive, no -a full=1
        again = run_crawl(site_server.seeds, db, settings)
        assert again.returncode == 0, again.log[-3000:]
        last = rows(db, "select status, mode, requests from crawl_runs order by id desc limit 1")[0]
        assert (last["status"], last["mode"]) == ("finished", "complete")
        # Promptly: the failed run stopped long before it had fetched the site; the completing run did the rest.
        assert stopped_after < last["requests"], (stopped_after, last["requests"])
        assert_matches_ground_truth(site_server, db)
        assert_every_capture_reads_back(db, Path(settings[0].split("=", 1)[1]))


def test_a_write_error_is_never_logged_after_the_summary(site_server, tmp_path):
    with small_disk(tmp_path / "warc", "256k"):
        # The log (stderr) and the summary (stdout) in one stream, in the order they were written.
        done = subprocess.run(crawl_command(site_server.seeds, tmp_path / "archive.db", CRAWL_SETTINGS),
                              cwd=project_root(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=300, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == EXIT_IOERR, done.stdout[-3000:]
    lines = done.stdout.splitlines()
    summary = next(number for number, line in enumerate(lines) if line.startswith("archiver: run 1 failed in"))
    errors = [number for number, line in enumerate(lines) if re.search(r"\] ERROR: |Traceback", line)]
    assert errors and "Cannot write" in lines[errors[0]], lines[-40:]
    assert max(errors) < summary, lines[summary:]
