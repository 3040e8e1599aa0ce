"""Cluster rounds, end to end: a first round, then incremental rounds as a single process runs them (new and
edited articles stored, unchanged ones not fetched), each recorded in crawl_runs."""

from __future__ import annotations

import sqlite3

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


def cluster_round(server, url: str, db, directory, workers: int, reset: bool) -> tuple[int, int]:
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
    settings = [f"WARC_DIR={db.parent / 'warc'}", f"MEDIA_DIR={db.parent / 'media'}", "REQUISITES_ENABLED=0"]
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
    # article first depends on the order pages were fetched in: the one edited was archived from a listing.
    entries = [entry["article"] for entry in site.listing("en", None)[:10]
               if entry.get("article") is not None and not entry["article"].role]
    listed = {url: title for url, title in rows(db, "select url, title from articles where listing_title = title")}
    edited = next(article for article in entries[1:] if server.base_urls[article.language] + article.path in listed)
    edited_url = server.base_urls[edited.language] + edited.path
    old_title = listed[edited_url]
    added = [site.add_article("en", "news_odkb"), site.add_article("ru", "news_secretariat")]
    site.edit_article(edited.key)

    second, second_pages = cluster_round(server, url, db, tmp_path / "round2", workers=1, reset=True)
    assert second_pages < 0.25 * first_pages, (second_pages, first_pages)
    assert_matches_ground_truth(server, db)
    for key in added:
        language, path = key.split(":", 1)
        assert rows(db, "select count(*) from articles where url = ?", server.base_urls[language] + path)[0][0] == 1
    article = rows(db, "select * from articles where url = ?", edited_url)[0]
    assert article["title"] != old_title
    versions = rows(db, "select * from article_versions where article_id = ?", article["id"])
    assert [v["title"] for v in versions] == [old_title]
    assert versions[0]["superseded_by_run"] == article["run_id"] == 2

    third, third_pages = cluster_round(server, url, db, tmp_path / "round3", workers=1, reset=True)  # unchanged
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
    assert (runs[1]["articles_new"], runs[1]["articles_updated"]) == (2, 1)
    assert (runs[2]["articles_new"], runs[2]["articles_updated"]) == (0, 0)
    assert [r["requests"] for r in runs] == [first, second, third]
    checked = verify(db)
    assert checked.returncode == 0, checked.stdout[-3000:]
    with sqlite3.connect(db) as conn:  # conditional requests: the writer stored each article's validators
        assert conn.execute("select count(*) from pages where kind = 'article' and etag is not null").fetchone()[0]
