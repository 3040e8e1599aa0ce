"""Scheduled crawls: incremental re-crawls, versions, removals, runs, exit codes, locking, crash safety."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import time

import pytest

from archiver.replica import ReplicaSite, serve_replica
from archiver.crawl.runs import EXIT_DEGRADED, EXIT_FAILED, EXIT_LOCKED

from conftest import assert_matches_ground_truth, free_port, rows, SLOW_SECONDS, start_crawl


@pytest.fixture
def site_server():
    """A replica of its own: these tests change the site between crawls."""
    site = ReplicaSite(articles_per_language=60, seed=7)
    with serve_replica(site, port=0, slow_seconds=SLOW_SECONDS, huge_page_bytes=2_000_000) as server:
        server.site = site
        yield server


def wait_for_run(db, timeout=30):
    """Until a crawl has registered its run in the archive."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if rows(db, "select id from crawl_runs"):
                return
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    raise AssertionError("the crawl never started")


def first_page_articles(site, language):
    """Ordinary articles on page 1 of the all-news listing."""
    entries = site.listing(language, None)[:10]
    return [e["article"] for e in entries if e.get("article") is not None and not e["article"].role]


def without_requisites(hits) -> int:
    """Requests but the page requisites (the replica's template files and thumbnails), which each run fetches
    again for the pages it fetches (archiver.capture.requisites)."""
    return len([hit for hit in hits if not hit["path"].startswith("/local/templates/")
                and "/resize_cache/" not in hit["path"]])


def test_incremental_recrawl_fetches_only_what_changed(site_server, crawl, tmp_path):
    server, site, db = site_server, site_server.site, tmp_path / "archive.db"
    hits = len(server.hits)
    first = crawl(server.seeds, db)
    assert first.returncode == 0, first.log[-2000:]
    first_requests = without_requisites(server.hits[hits:])

    english, russian = first_page_articles(site, "en"), first_page_articles(site, "ru")
    edited, deleted = english[1], russian[2]
    edited_url = server.base_urls[edited.language] + edited.path
    deleted_url = server.base_urls[deleted.language] + deleted.path
    old_title = rows(db, "select title from articles where url = ?", edited_url)[0][0]
    added = [site.add_article("en", "news_odkb"), site.add_article("ru", "news_secretariat"),
             site.add_article("en", "military_cooperation")]
    site.edit_article(edited.key)
    site.delete_article(deleted.key)

    hits = len(server.hits)
    second = crawl(server.seeds, db)
    assert second.returncode == 0, second.log[-2000:]
    second_requests = without_requisites(server.hits[hits:])
    second_all = len(server.hits) - hits
    assert second_requests < 0.25 * first_requests, (second_requests, first_requests)
    assert_matches_ground_truth(server, db)

    for key in added:
        language, path = key.split(":", 1)
        assert rows(db, "select count(*) from articles where url = ?", server.base_urls[language] + path)[0][0] == 1
    article = rows(db, "select * from articles where url = ?", edited_url)[0]
    assert article["title"] != old_title
    versions = rows(db, "select * from article_versions where article_id = ?", article["id"])
    assert [v["title"] for v in versions] == [old_title]
    assert versions[0]["superseded_by_run"] == article["run_id"] == 2

    gone = rows(db, "select * from articles where url = ?", deleted_url)[0]
    assert gone["status"] == "gone"  # kept in the archive, never deleted
    reasons = {r["reason"] for r in rows(db, "select reason from removals where article_id = ?", gone["id"])}
    assert "HTTP 404" in reasons

    runs = rows(db, "select * from crawl_runs order by id")
    assert [(r["status"], r["mode"], r["exit_code"]) for r in runs] == [
        ("finished", "first", 0), ("finished", "incremental", 0)]
    assert (runs[1]["articles_new"], runs[1]["articles_updated"], runs[1]["articles_gone"]) == (3, 1, 1)
    assert runs[1]["requests"] == second_all  # the run's requests: requisites included
    coverage = json.loads(runs[0]["coverage"])
    assert coverage["title"] == 1.0 and coverage["published"] > 0.95

    hits = len(server.hits)
    third = crawl(server.seeds, db)
    assert third.returncode == 0
    # Each run reads the sitemap index and the feed of each host again: a cost of the run, not of the site's size.
    published = [hit for hit in server.hits[hits:] if hit["path"].startswith("/sitemap") or hit["path"] == "/rss/"]
    assert without_requisites(server.hits[hits:]) - len(published) < 0.05 * first_requests
    assert rows(db, "select articles_new, articles_updated from crawl_runs where id = 3")[0][:] == (0, 0)


def test_a_second_run_on_the_same_archive_is_locked_out(site_server, crawl, tmp_path):
    db = tmp_path / "archive.db"
    slow = ["DOWNLOAD_DELAY=0.3", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    running = start_crawl(site_server.seeds, db, slow)
    try:
        wait_for_run(db)
        started = time.time()
        second = crawl(site_server.seeds, db)
        assert second.returncode == EXIT_LOCKED, second.log[-2000:]
        assert "Another crawl is running on this archive" in second.log
        assert time.time() - started < 20
    finally:
        running.send_signal(signal.SIGKILL)
        running.wait()
    # The killed crawl's lock is gone with it: the next run proceeds and completes the archive.
    after = crawl(site_server.seeds, db)
    assert after.returncode == 0, after.log[-2000:]
    runs = rows(db, "select status, mode from crawl_runs order by id")
    assert runs[0]["status"] == "interrupted"
    assert runs[-1]["mode"] == "complete" and runs[-1]["status"] == "finished"
    assert_matches_ground_truth(site_server, db)


def test_sigkill_at_random_moments_then_a_run_completes_the_archive(site_server, crawl, tmp_path):
    db = tmp_path / "archive.db"
    chance = random.Random(2026)
    for _ in range(3):
        process = start_crawl(site_server.seeds, db)
        time.sleep(chance.uniform(0.8, 4.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if db.exists():
            assert rows(db, "pragma integrity_check")[0][0] == "ok"
            # No half-written article: every article has all of its images.
            assert not rows(db, "select id from articles a where image_count != "
                                "(select count(*) from images i where i.article_id = a.id)")
    final = crawl(site_server.seeds, db)
    assert final.returncode == 0, final.log[-2000:]
    assert_matches_ground_truth(site_server, db)
    assert rows(db, "select count(*) from crawl_runs where status = 'interrupted'")[0][0] >= 1


def test_jobdir_pause_and_resume(site_server, crawl, tmp_path):
    db, jobdir = tmp_path / "archive.db", f"JOBDIR={tmp_path / 'job'}"
    process = start_crawl(site_server.seeds, db, [jobdir, "DOWNLOAD_DELAY=0.05"])
    time.sleep(3)
    process.send_signal(signal.SIGINT)  # Scrapy's clean stop: the job directory keeps the queue
    process.communicate(timeout=60)
    assert rows(db, "select status from crawl_runs")[0]["status"] == "interrupted"
    resumed = crawl(site_server.seeds, db, [jobdir])
    assert resumed.returncode == 0, resumed.log[-2000:]
    assert_matches_ground_truth(site_server, db)


def test_unreachable_seeds_fail_the_run(crawl, tmp_path):
    result = crawl([f"http://127.0.0.1:{free_port()}/news/"], tmp_path / "archive.db", ["RETRY_TIMES=0"])
    assert result.returncode == EXIT_FAILED
    run = rows(tmp_path / "archive.db", "select * from crawl_runs")[0]
    assert run["status"] == "failed" and run["exit_code"] == EXIT_FAILED


def test_quiet_cron_run_prints_one_line_and_no_new_article_degrades(site_server, crawl, tmp_path):
    db = tmp_path / "archive.db"
    assert crawl(site_server.seeds, db).returncode == 0
    quiet = crawl(site_server.seeds, db, args=["--nolog"])
    assert quiet.returncode == 0
    assert [line for line in quiet.log.splitlines() if line.strip()] == [quiet.log.strip()]
    assert quiet.log.startswith("archiver: run 2 finished")
    # No new article for longer than allowed: "degraded", with a message cron mails.
    stale = crawl(site_server.seeds, db, ["DEGRADED_AFTER_DAYS_WITHOUT_NEW=0"], args=["--nolog"])
    assert stale.returncode == EXIT_DEGRADED
    assert "DEGRADED: no new article" in stale.log


def test_coverage_drop_against_earlier_runs():
    from archiver.crawl.runs import coverage_drop

    healthy = {"articles": 50, "title": 1.0, "published": 0.98, "text": 1.0, "images": 0.9}
    broken_dates = {**healthy, "published": 0.1}
    assert coverage_drop(healthy, [healthy, healthy], 0.3, 10) is None
    assert "articles with a date fell from 98% to 10%" in coverage_drop(broken_dates, [healthy], 0.3, 10)
    assert coverage_drop({**broken_dates, "articles": 3}, [healthy], 0.3, 10) is None  # too small to judge
    assert coverage_drop(broken_dates, [{**healthy, "articles": 2}], 0.3, 10) is None  # nothing to compare with


def section_roots(hits) -> set[str]:
    """The listings' first pages among the requests: /news/ and /news/<section>/, any host."""
    return {(hit["host"], hit["path"]) for hit in hits
            if hit["path"].startswith("/news/") and hit["path"].count("/") <= 3 and "?" not in hit["path"]}


def test_unchanged_sections_stay_checked_and_a_full_run_reads_every_listing(site_server, crawl, tmp_path):
    server, db = site_server, tmp_path / "archive.db"
    hits = len(server.hits)
    assert crawl(server.seeds, db).returncode == 0
    first_pages = [hit for hit in server.hits[hits:] if hit["path"].startswith("/news/")]  # media apart

    hits = len(server.hits)
    assert crawl(server.seeds, db).returncode == 0  # nothing changed: the listings answer 304
    second = server.hits[hits:]
    assert any(hit["status"] == 304 for hit in second)
    checked = section_roots(second)
    assert len(checked) > len(server.seeds)  # the sections found by the first run, not only the seeds

    hits = len(server.hits)
    assert crawl(server.seeds, db).returncode == 0
    # A section that answered 304 is as alive as one that answered 200: it was forgotten, and new articles
    # listed only there were never found again.
    assert section_roots(server.hits[hits:]) >= checked

    hits = len(server.hits)
    full = crawl(server.seeds, db, args=["-a", "full=1"])
    assert full.returncode == 0, full.log[-2000:]
    # Every listing is read again (a 304 listing shows no links): the run reaches every page again, the
    # articles answering 304 (unchanged).
    full_pages = [hit for hit in server.hits[hits:] if hit["path"].startswith("/news/")]
    assert len(full_pages) > 0.9 * len(first_pages), (len(full_pages), len(first_pages))
    assert not [hit for hit in full_pages if hit["status"] == 304 and (hit["host"], hit["path"]) in checked]
    assert full.rows("select mode, articles_new, articles_updated from crawl_runs order by id desc limit 1")[0][:] \
        == ("full", 0, 0)


def test_an_article_removed_behind_a_not_found_page_is_gone_and_one_only_unlisted_is_not(site_server, crawl,
                                                                                         tmp_path):
    """Bitrix answers a removed element with 200 and a "not found" text (SET_STATUS_404=N): the article
    vanished from its listing, and the page is no longer an article. It was recorded, and stayed live."""
    server, site, db = site_server, site_server.site, tmp_path / "archive.db"
    assert crawl(server.seeds, db).returncode == 0
    removed = first_page_articles(site, "ru")[2]
    site.delete_article(removed.key, soft_404=True)
    url = server.base_urls[removed.language] + removed.path
    second = crawl(server.seeds, db)
    assert second.returncode == 0, second.log[-2000:]
    article = rows(db, "select * from articles where url = ?", url)[0]
    assert article["status"] == "gone"  # kept, never deleted
    removal = rows(db, "select * from removals where article_id = ?", article["id"])
    assert [(r["http_status"], r["reason"].split(" (")[0]) for r in removal] == [
        (200, "vanished from listing, no longer an article")]
    assert rows(db, "select articles_gone from crawl_runs where id = 2")[0][0] == 1
    assert rows(db, "select count(*) from articles where status = 'gone'")[0][0] == 1
