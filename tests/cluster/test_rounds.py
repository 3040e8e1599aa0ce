"""Cluster rounds, end to end: a first round, then incremental rounds as a single process runs them (new and
edited articles stored, unchanged ones not fetched, sitemaps' change signals reaching the writer), each recorded in
crawl_runs."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone

import pytest

from archiver.replica import ReplicaSite, serve_replica

from cluster_processes import (log_text, needs_redis_server, redis_server, seed, start_worker,  # noqa: F401
                               start_writer, verify, wait_all)
from conftest import assert_matches_ground_truth, rows

pytestmark = needs_redis_server


@pytest.fixture
def site_server():
    """A small replica of its own: the test changes the site between rounds."""
    site = ReplicaSite(articles_per_language=34, seed=11)
    with serve_replica(site, port=0, slow_seconds=0) as server:
        server.site = site
        yield server


def cluster_round(server, url: str, db, directory, workers: int, reset: bool, settings=()) -> tuple[int, int]:
    """One round (seed, workers, the writer until it drained the stream); returns the requests the site got:
    all of them, and those of pages (what a round reads to find articles: not media, robots.txt or the
    stylesheets and scripts captured with the pages)."""
    hits = len(server.hits)
    if reset:
        seed(url, ["--reset", *server.seeds])
    else:
        seed(url, server.seeds)
    directory.mkdir()
    writer = start_writer(url, db, directory / "writer.log", idle_exit=1)
    # Page requisites off: rounds are about pages (the other cluster tests capture requisites).
    settings = [f"WARC_DIR={db.parent / 'warc'}", f"MEDIA_DIR={db.parent / 'media'}", "REQUISITES_ENABLED=0",
                *settings]
    processes = [start_worker(url, server.seeds, directory / f"worker{n}.log", settings) for n in range(workers)]
    assert wait_all(processes) == [0] * workers, log_text(directory)[-5000:]
    assert wait_all([writer]) == [0], log_text(directory)[-5000:]
    assert "Traceback" not in log_text(directory), log_text(directory)[-5000:]
    new = server.hits[hits:]
    server.round_pages = [f"http://{hit['host']}{hit['path']}" for hit in new if hit["path"].startswith("/news/")]
    return len(new), len(server.round_pages)


def test_second_round_is_incremental_and_stores_new_and_edited_articles(site_server, redis_server, tmp_path):
    server, site, db = site_server, site_server.site, tmp_path / "archive.db"
    url = redis_server.url(5)
    first, first_pages = cluster_round(server, url, db, tmp_path / "round1", workers=2, reset=False)
    assert_matches_ground_truth(server, db)

    # An edit shows in the listing entry an article was archived with; which listing (or other page) led to an
    # article first depends on the order pages were fetched in: the one edited was archived from a listing (of
    # either language: the first page of one has only two candidates, neither archived from it now and then).
    entries = [[entry["article"] for entry in site.listing(language, None)[:10]
                if entry.get("article") is not None and not entry["article"].role] for language in ("en", "ru")]
    listed = {url: title for url, title in rows(db, "select url, title from articles where listing_title = title")}
    edited = next(article for found in entries for article in found[1:]
                  if server.base_urls[article.language] + article.path in listed)
    edited_url = server.base_urls[edited.language] + edited.path
    old_title = listed[edited_url]
    added = [site.add_article("en", "news_odkb"), site.add_article("ru", "news_secretariat")]
    site.edit_article(edited.key)
    # Edits no listing shows, only the sitemaps' <lastmod>: far down the listings, which rounds do not read again.
    deep = [article for article in site.articles("en")[20:] if not article.role]
    corrected, touched = deep[0], deep[2]
    site.edit_body(corrected.key)
    corrected_url = server.base_urls["en"] + corrected.path
    corrected_before = rows(db, "select id, content_hash from articles where url = ?", corrected_url)[0]

    second, second_pages = cluster_round(server, url, db, tmp_path / "round2", workers=1, reset=True)
    # Pages read (a flaky page's retries once; the corrected article apart): a fraction of the first round's.
    assert len(set(server.round_pages) - {corrected_url}) < 0.25 * first_pages, (second_pages, first_pages)
    assert_matches_ground_truth(server, db)
    for key in added:
        language, path = key.split(":", 1)
        assert rows(db, "select count(*) from articles where url = ?", server.base_urls[language] + path)[0][0] == 1
    article = rows(db, "select * from articles where url = ?", edited_url)[0]
    assert article["title"] != old_title
    versions = rows(db, "select * from article_versions where article_id = ?", article["id"])
    assert [v["title"] for v in versions] == [old_title]
    assert versions[0]["superseded_by_run"] == article["run_id"] == 2
    # The worker that read the sitemap made the corrected article due; it was fetched in this round (by
    # whichever worker took it) and its new version stored.
    assert "archived articles changed since fetched" in log_text(tmp_path / "round2")
    assert server.round_pages.count(corrected_url) == 1
    assert rows(db, "select content_hash from articles where id = ?", corrected_before["id"])[0][0] != \
        corrected_before["content_hash"]
    assert rows(db, "select count(*) from article_versions where article_id = ?", corrected_before["id"])[0][0] == 1

    # A <lastmod> newer than the article's fetch, with no budget left for checks in this round: the worker's
    # signal reaches the writer's archive, where the article is due for the next round.
    touched.modified = time.time()
    site.version += 1
    touched_url = server.base_urls["en"] + touched.path

    third, third_pages = cluster_round(server, url, db, tmp_path / "round3", workers=1, reset=True,
                                       settings=["REVISIT_MAX_PER_RUN=0"])  # unchanged, but for a <lastmod>
    assert "archived articles changed since fetched 1, checked now 0, due next run 1" in log_text(tmp_path / "round3")
    now = datetime.now(timezone.utc).isoformat()
    assert rows(db, "select next_revisit from pages where url = ?", touched_url)[0][0] <= now
    assert json.loads(redis_server.client(5).hget("news:snapshot:due", touched_url)) <= now
    # As one process's run on an unchanged site: the first pages of the listings read again (conditionally), no
    # article fetched: a tenth of the first round's pages on this small site, in one process as here.
    truth = {article["url"] for article in site.ground_truth(server.base_urls)}
    assert not set(server.round_pages) & truth, sorted(set(server.round_pages) & truth)[:5]
    assert third_pages <= 0.1 * first_pages, (third_pages, first_pages, server.round_pages)
    print(f"requests of the rounds: {first}, {second}, {third}; of pages: {first_pages}, {second_pages}, "
          f"{third_pages}")

    runs = rows(db, "select * from crawl_runs order by id")
    assert [(r["status"], r["mode"]) for r in runs] == [
        ("finished", "first"), ("finished", "incremental"), ("finished", "incremental")], [dict(r) for r in runs]
    assert (runs[1]["articles_new"], runs[1]["articles_updated"]) == (2, 2)  # the edited and the corrected
    assert (runs[2]["articles_new"], runs[2]["articles_updated"]) == (0, 0)
    assert [r["requests"] for r in runs] == [first, second, third]
    checked = verify(db)
    assert checked.returncode == 0, checked.stdout[-3000:]
    with sqlite3.connect(db) as conn:  # conditional requests: the writer stored each article's validators
        assert conn.execute("select count(*) from pages where kind = 'article' and etag is not null").fetchone()[0]
