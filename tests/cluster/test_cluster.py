"""Cluster mode, end to end with real processes: redis-server, `archiver seed`, three `scrapy crawl news`
workers sharing one scrapy-redis queue, and one `archiver ingest` writer; compared with the ground truth
and with the single-process crawl. Then workers and the writer are killed mid-crawl and restarted."""

from __future__ import annotations

import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from archiver.cli import project_root

from cluster_processes import (ENV, articles, log_text, needs_redis_server, redis_server, seed, start_worker,  # noqa: F401
                               start_writer, verify, wait_all)

pytestmark = needs_redis_server

@pytest.fixture(scope="module")
def truth(replica):
    return {article["url"]: article for article in replica.site.ground_truth(replica.base_urls)}


def count_written(db: Path) -> int:
    """Articles the writer committed so far (0 while it is still creating the archive)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            return conn.execute("select count(*) from articles").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def images(db: Path) -> dict[str, list[tuple]]:
    """Each article's images, with their files' digests (NULL when not downloaded)."""
    with sqlite3.connect(db) as conn:
        found: dict[str, list[tuple]] = {}
        for url, src, alt, caption, sha256 in conn.execute(
                "select a.url, i.src, i.alt, i.caption, i.sha256 from images i join articles a on a.id = i.article_id "
                "order by a.url, i.position"):
            found.setdefault(url, []).append((src, alt, caption, sha256))
        return found


def table(db: Path, sql: str) -> set[tuple]:
    with sqlite3.connect(db) as conn:
        return set(conn.execute(sql).fetchall())


# What the archive holds besides articles and images, comparable between two archives of the same site:
# documents with their files, aliases, and the captures of the articles and their media (where the records
# are, and which copy of a payload is the response and which the revisit, depends on the order of fetching;
# listings and transient errors the two crawls met differ with timing).
COMPARED = {
    "documents": "select a.url, d.url, d.sha256, d.bytes from documents d join articles a on a.id = d.article_id",
    "aliases": "select a.url, u.url from url_aliases u join articles a on a.id = u.article_id",
    "captured articles and media": "select url, status from captures where record_type in ('response', 'revisit') "
                                   "and status = 200 and (url in (select url from articles) or url in "
                                   "(select src from images) or url in (select url from documents))",
    # What the pages need to render (stylesheets, scripts, icons, thumbnails: archiver.capture.requisites): the
    # captures that are no page, medium, robots.txt, sitemap or feed (a killed worker's sitemap reads are not
    # remembered: the next round reads them again).
    "captured requisites": "select url, status from captures where record_type in ('response', 'revisit') and "
                           "url not in (select url from pages) and url not in (select url from url_aliases) and "
                           "url not in (select src from images) and url not in (select url from documents) and "
                           "url not like '%/robots.txt' and url not like '%/sitemap%' and url not like '%/rss/'",
}


def media_files(db: Path) -> list[tuple[str, str]]:
    """(path, sha256) of every image and document file of the archive (paths relative to its directory)."""
    with sqlite3.connect(db) as conn:
        return conn.execute("select path, sha256 from images where sha256 is not null union "
                            "select path, sha256 from documents where sha256 is not null").fetchall()


def assert_same_archive(db: Path, truth: dict, single_db: Path) -> None:
    rows = articles(db)
    stored = {row["url"]: row for row in rows}
    assert len(rows) == len(stored), "duplicate URLs"
    assert len({row["content_hash"] for row in rows}) == len(rows), "duplicate contents"
    missing, junk = sorted(set(truth) - set(stored)), sorted(set(stored) - set(truth))
    assert not missing, f"{len(missing)} articles missing, e.g. {missing[:5]}"
    assert not junk, f"{len(junk)} rows that are not articles, e.g. {junk[:5]}"
    # The article linked from two sections is stored once; which section it is filed under depends on
    # which copy is fetched first (Archive.save keeps the first, the other becomes an alias): the
    # single process's fetch order is not the cluster's. Every other article has its one section.
    one_section = {url for url, expected in truth.items() if expected.get("role") != "two_sections"}
    for url, expected in truth.items():
        assert stored[url]["title"] == expected["title"], url
        assert stored[url]["published"] == expected["published"], url
        if url in one_section:
            assert stored[url]["section"] == expected["section"], url
    single = {row["url"]: row for row in articles(single_db)}
    assert set(single) == set(stored)
    for url, row in single.items():
        for column in ("title", "published", "text", "language", "content_hash", "image_count", "date_missing",
                       *(("section", "section_url") if url in one_section else ())):
            assert stored[url][column] == row[column], (url, column)
    assert images(db) == images(single_db)
    files = media_files(db)
    assert files and all(sha256 for _, sha256 in files)
    assert all((db.parent / path).is_file() for path, _ in files), "media rows point at files not in the store"
    assert any("/local/templates/" in url for url, _ in table(db, COMPARED["captured requisites"]))
    for name, sql in COMPARED.items():
        cluster, one = table(db, sql), table(single_db, sql)
        assert cluster == one, (name, "missing:", sorted(one - cluster)[:5], "extra:", sorted(cluster - one)[:5])
    with sqlite3.connect(db) as conn:  # every article points at its captured response
        assert conn.execute("select count(*) from articles a left join captures c on c.warc_file = a.warc_file "
                            "and c.offset = a.warc_offset where c.id is null").fetchone()[0] == 0


def inflight_keys(client) -> list[str]:
    return [key.decode() for key in client.scan_iter("news:requests:inflight:*")]


def test_three_workers_and_one_writer_archive_the_replica_like_one_process(
        replica, truth, first_crawl, redis_server, tmp_path):
    url = redis_server.url(1)
    client = redis_server.client(1)
    assert first_crawl.returncode == 0
    started = time.monotonic()
    print(seed(url, replica.seeds))
    assert client.zcard("news:requests") >= 2
    hits_before = len(replica.hits)
    db = tmp_path / "archive.db"
    writer = start_writer(url, db, tmp_path / "writer.log")
    # Each worker is held to a polite pace, as on a real site, and holds two requests at most, so the
    # backlog stays in the shared queue and every worker finds work in it (unthrottled, or holding
    # Scrapy's 8 requests each, two workers can take the whole frontier before a third polls).
    polite = ["DOWNLOAD_DELAY=0.05", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "CONCURRENT_REQUESTS=2"]
    workers = [start_worker(url, replica.seeds, tmp_path / f"worker{n}.log", polite) for n in range(3)]
    assert wait_all(workers) == [0, 0, 0], log_text(tmp_path)[-5000:]
    assert wait_all([writer]) == [0], log_text(tmp_path)[-5000:]
    elapsed = time.monotonic() - started
    log = log_text(tmp_path)
    assert "Traceback" not in log, log[-5000:]
    assert not (tmp_path / "worker-must-not-write.db").exists()

    assert_same_archive(db, truth, first_crawl.db_path)
    # The workers shared the writer's WARC directory and media store: the archive checks out as it is.
    checked = verify(db)
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert len(list((tmp_path / "warc").glob("*.warc.gz"))) >= 3  # each worker its own files
    # The round, started by `archiver seed`, finished when the writer drained the stream.
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        (run,) = conn.execute("select * from crawl_runs").fetchall()
    assert run["status"] == "finished" and run["mode"] == "first", dict(run)
    assert run["articles_new"] == len(truth) and run["requests"] >= len(truth), dict(run)

    # Every worker did part of the crawl, and each article was fetched once across the cluster.
    shares = []
    for n in range(3):
        worker_log = (tmp_path / f"worker{n}.log").read_text()
        # Every worker took requests from the shared queue (which pages, and whether they held
        # articles, depends on timing).
        fetched = re.search(r"'downloader/response_count': (\d+)", worker_log)
        assert fetched, f"worker {n} fetched nothing"
        shares.append(int(fetched.group(1)))
    # Each article was fetched once across the cluster, apart from retries (timeouts on this busy machine).
    hits = Counter(f"http://{hit['host']}{hit['path']}" for hit in replica.hits[hits_before:])
    retries = Counter(re.findall(r"Retry \d+ of (\S+) in", log))
    fetched_twice = {u: n for u, n in hits.items() if u in truth and n > 1 + retries[u]}
    assert not fetched_twice
    # Redis is left clean: nothing queued, nothing in flight, nothing unacknowledged.
    assert client.zcard("news:requests") == 0
    assert inflight_keys(client) == []
    assert client.xlen("news:archive") == 0
    assert client.xpending("news:archive", "archiver")["pending"] == 0
    print(f"cluster crawl: {elapsed:.1f}s, {len(truth)} articles, {sum(hits.values())} requests, per worker {shares}")


def test_killed_worker_and_writer_lose_and_double_nothing(replica, truth, first_crawl, redis_server, tmp_path):
    url = redis_server.url(2)
    client = redis_server.client(2)
    seed(url, replica.seeds)
    db = tmp_path / "archive.db"
    # Slower workers, so that there is a middle of the crawl to kill them in.
    slow = ["DOWNLOAD_DELAY=0.25", "CONCURRENT_REQUESTS_PER_DOMAIN=2"]

    def own_dirs(name: str) -> list[str]:  # each worker its own WARC directory and media store, gathered later
        return [f"WARC_DIR={tmp_path / name / 'warc'}", f"MEDIA_DIR={tmp_path / name / 'media'}"]

    writer = start_writer(url, db, tmp_path / "writer.log")
    workers = [start_worker(url, replica.seeds, tmp_path / f"worker{n}.log", slow + own_dirs(f"worker{n}"))
               for n in range(3)]
    victim = workers[0]
    deadline = time.monotonic() + 60
    victim_inflight = 0
    while time.monotonic() < deadline:  # mid-crawl: items written, and the victim holding requests
        written = count_written(db)
        victim_keys = [key for key in inflight_keys(client) if f":{victim.pid}:" in key]
        victim_inflight = client.hlen(victim_keys[0]) if victim_keys else 0
        if written >= 15 and victim_inflight:
            break
        time.sleep(0.05)
    assert victim_inflight, "the crawl ended before the victim held a request"
    victim.send_signal(signal.SIGKILL)
    writer.send_signal(signal.SIGKILL)
    victim.wait()
    writer.wait()
    written_before_restart = len(articles(db))
    assert written_before_restart < len(truth), "killed too late to test anything"
    # The victim's requests stay in its in-flight hash until a live worker sees its heartbeat expire.
    assert any(f":{victim.pid}:" in key for key in inflight_keys(client))

    workers[0] = start_worker(url, replica.seeds, tmp_path / "worker0-restarted.log", slow + own_dirs("worker3"))
    writer = start_writer(url, db, tmp_path / "writer-restarted.log")
    assert wait_all(workers) == [0, 0, 0], log_text(tmp_path)[-5000:]
    assert wait_all([writer]) == [0], log_text(tmp_path)[-5000:]
    log = log_text(tmp_path)
    assert "Traceback" not in log, log[-5000:]
    assert f":{victim.pid}:" in log and "of its requests put back into the queue" in log

    # Workers write media only into their stores: no empty media/ folder next to their ARCHIVE_DB.
    assert not (tmp_path / "media").exists()
    for name in (f"worker{n}" for n in range(4)):  # gathered into the archive's directories
        for kind in ("warc", "media"):
            if (tmp_path / name / kind).exists():
                shutil.copytree(tmp_path / name / kind, tmp_path / kind, dirs_exist_ok=True)
    assert_same_archive(db, truth, first_crawl.db_path)
    # The killed worker's last file may end with records whose rows it never sent: the repair indexes them.
    repaired = verify(db, "--repair")
    assert repaired.returncode == 0, repaired.stdout[-3000:]
    assert "UNLISTED" not in verify(db).stdout
    assert client.zcard("news:requests") == 0 and inflight_keys(client) == []
    assert client.xpending("news:archive", "archiver")["pending"] == 0
    print(f"killed with {victim_inflight} requests in flight and {written_before_restart} articles written")


def test_writer_redelivers_what_a_dead_writer_read_but_did_not_acknowledge(redis_server, first_crawl, tmp_path):
    """A writer died between reading entries and committing them: the next writer stores them, once."""
    url = redis_server.url(3)
    client = redis_server.client(3)
    items = [dict(row) for row in articles(first_crawl.db_path)[:30]]
    for item in items:
        item["images"] = [{"src": src, "alt": alt, "caption": caption}
                          for src, alt, caption, _ in images(first_crawl.db_path).get(item["url"], [])]
        client.xadd("news:archive", {"item": json.dumps(item)})
    client.xgroup_create("news:archive", "archiver", id="0")
    # A writer (under another consumer name) read 20 of them and died before committing.
    client.xreadgroup("archiver", "dead-writer", {"news:archive": ">"}, count=20)
    assert client.xpending("news:archive", "archiver")["pending"] == 20
    db = tmp_path / "archive.db"
    for run in range(2):  # the second run finds nothing new: nothing is written twice
        writer = start_writer(url, db, tmp_path / f"writer{run}.log", idle_exit=1)
        assert wait_all([writer]) == [0]
    log = (tmp_path / "writer0.log").read_text()
    assert "Redelivered 20 unacknowledged entries" in log, log
    assert "Ingested 30 entries (20 redelivered, 0 failed)" in log and "30 new" in log, log
    assert "Ingested 0 entries" in (tmp_path / "writer1.log").read_text()
    stored = articles(db)
    assert sorted(row["url"] for row in stored) == sorted(item["url"] for item in items)
    assert client.xpending("news:archive", "archiver")["pending"] == 0 and client.xlen("news:archive") == 0


def test_without_a_redis_url_nothing_changes_and_scrapy_redis_is_not_imported():
    code = """
import sys
from scrapy.crawler import Crawler
from scrapy.utils.project import get_project_settings
from archiver.spiders.news import NewsSpider
crawler = Crawler(NewsSpider, get_project_settings())
crawler.addons.load_settings(crawler.settings)  # what a crawl does first with its settings
s = crawler.settings
assert "scrapy_redis" not in sys.modules and "redis" not in sys.modules, "scrapy-redis imported"
assert s.get("SCHEDULER") == "scrapy.core.scheduler.Scheduler", s.get("SCHEDULER")
assert "archiver.crawl.pipelines.ArchivePipeline" in s.getdict("ITEM_PIPELINES")
print("single-process")
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=project_root(), env=ENV, capture_output=True, text=True)
    assert done.returncode == 0 and "single-process" in done.stdout, done.stderr[-3000:]


def test_cluster_settings_replace_the_archive_and_keep_command_line_overrides():
    from scrapy.settings import Settings

    from archiver.cluster.addon import apply_cluster_settings
    from archiver.cluster.pipelines import RedisStreamPipeline

    settings = Settings()
    settings.setmodule("archiver.settings", priority="project")
    settings.set("REDIS_URL", "redis://127.0.0.1:1/0", priority="cmdline")
    settings.set("DOWNLOAD_DELAY", 0.1, priority="cmdline")
    assert apply_cluster_settings(settings)
    assert settings.get("SCHEDULER") == "archiver.cluster.scheduler.ClusterScheduler"
    assert settings.getbool("SCHEDULER_PERSIST")
    assert settings.getfloat("DOWNLOAD_DELAY") == 0.1  # -s wins
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1  # the cluster's safe default
    pipelines = settings.getdict("ITEM_PIPELINES")
    assert pipelines[RedisStreamPipeline] == 300 and "archiver.crawl.pipelines.ArchivePipeline" not in pipelines
    assert all(order is None for name, order in settings.getdict("EXTENSIONS").items() if "ArchiveRun" in str(name))
