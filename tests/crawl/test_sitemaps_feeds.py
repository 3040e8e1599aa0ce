"""Sitemaps and feeds: one more way in (articles no listing shows), signals of edits, bad files, turning off.

Real crawls of the replica, whose robots.txt lists its sitemap index (and, hostile, a looping index and a 20 MB
sitemap); one shared first crawl and its incremental re-crawl, one crawl with both sources off."""

from __future__ import annotations

import re
import time

import pytest

from archiver.clock import utc_after
from archiver.extraction.feeds import FeedError, alternate_feeds, read_feed
from archiver.profiles import PROFILE_DIR
from archiver.replica import ReplicaSite, serve_replica
from archiver.replica import sitemaps
from archiver.replica.sitemaps import ONLY_IN_SITEMAP

from conftest import assert_matches_ground_truth, rows, run_crawl


@pytest.fixture(scope="module")
def server():
    site = ReplicaSite(articles_per_language=40, seed=31)
    with serve_replica(site, port=0) as served:
        served.hostile_sitemaps = True  # a looping sitemap index and a 20 MB sitemap, besides the good ones
        yield served


def only_in_sitemaps(server) -> set[str]:
    return {server.base_urls[a.language] + a.path for language in ("en", "ru")
            for a in server.site.articles(language) if a.role == ONLY_IN_SITEMAP}


def edit_body_only(site, article) -> None:
    """A correction at the end of the body: listings, title and date unchanged; Last-Modified and ETag change."""
    blocks = site.blocks(article)
    blocks.append(("p", ["Correction: an earlier version of this article gave a wrong date."]))
    article.modified = time.time()
    site.version += 1  # pages rendered before are stale


@pytest.fixture(scope="module")
def first_crawl(server, tmp_path_factory):
    db = tmp_path_factory.mktemp("sitemaps") / "archive.db"
    hits = len(server.hits)
    result = run_crawl(server.seeds, db)
    result.paths = [hit["path"] for hit in server.hits[hits:]]
    return result


def test_first_crawl_archives_what_only_the_sitemaps_list(server, first_crawl):
    assert first_crawl.returncode == 0, first_crawl.log[-3000:]
    assert only_in_sitemaps(server)
    assert_matches_ground_truth(server, first_crawl.db_path)  # the sitemap-only articles among them
    assert "2 found only through sitemaps" in first_crawl.log
    # Requested once the crawl was idle: the listings were read as without sitemaps.
    assert "2 pages only sitemaps or feeds lead to, requested now" in first_crawl.log
    assert "/sitemap-iblock-news_odkb.xml.gz" in first_crawl.paths  # the gzipped one
    # The static pages it lists are outside the profile's paths (the home page is read as a hub anyway).
    assert "'archiver/sitemap/ignored/denied': 8" in first_crawl.log
    assert "/about/" not in first_crawl.paths
    assert first_crawl.paths.count("/rss/") == 2  # the profile's feed, on both hosts


def test_a_looping_index_a_huge_and_a_broken_sitemap_cost_a_line(first_crawl):
    log = first_crawl.log
    assert "archiver: run 1 finished" in log and "Traceback" not in log
    assert len(re.findall(r"\[news\] WARNING: Sitemap index leads back", log)) == 2  # once a host
    assert len(re.findall(r"\[news\] WARNING: Sitemap not read .*sitemap-huge", log)) == 2
    assert len(re.findall(r"\[news\] WARNING: Not a sitemap \(<html>\): .*sitemap-broken", log)) == 2
    assert first_crawl.paths.count("/sitemap-loop.xml") == 2  # each file once a host, however often listed


def test_an_edit_only_the_lastmod_tells_is_caught_by_the_next_run(server, first_crawl):
    site, db = server.site, first_crawl.db_path
    old = site.articles("en")[25]  # far down the listings: an incremental run does not page that far
    url = server.base_urls["en"] + old.path
    before = rows(db, "select id, content_hash from articles where url = ?", url)[0]
    edit_body_only(site, old)
    touched = site.articles("en")[27]  # a newer lastmod, the same page: the check is conditional, answered 304
    touched.modified = time.time()
    site.version += 1

    hits = len(server.hits)
    second = run_crawl(server.seeds, db)
    assert second.returncode == 0, second.log[-3000:]
    assert "incremental crawl" in second.log
    assert "archived articles changed since fetched 2, checked now 2, due next run 0" in second.log
    fetched = [hit for hit in server.hits[hits:] if hit["path"] == old.path and hit["host"].startswith("127.0.0.1")]
    assert [hit["status"] for hit in fetched] == [200], fetched
    assert [hit["status"] for hit in server.hits[hits:] if hit["path"] == touched.path
            and hit["host"].startswith("127.0.0.1")] == [304]
    after = rows(db, "select content_hash from articles where id = ?", before["id"])[0]
    assert after["content_hash"] != before["content_hash"]
    assert rows(db, "select count(*) from article_versions where article_id = ?", before["id"])[0][0] == 1
    assert re.search(r"1 updated", second.log), second.log[-1000:]
    # Unchanged articles whose lastmod is older than their fetch are not requested, nor the sitemaps the index
    # dates before the first run read them: only the sections' of the two articles are read again.
    paths = [hit["path"] for hit in server.hits[hits:] if hit["host"].startswith("127.0.0.1")]
    assert site.articles("en")[26].path not in paths
    assert {path for path in paths if path.startswith("/sitemap-iblock")} == \
        {sitemaps.section_file(article.sections[0]) for article in (old, touched)}


def test_signals_have_a_budget_apart_from_the_schedule(server, first_crawl, monkeypatch):
    """Every archived article due by the schedule, a budget of one check: the schedule takes its one, and three
    articles a newer lastmod signals get one check now (a budget of their own), the other two the next run."""
    site, db = server.site, first_crawl.db_path
    for article in site.articles("en")[30:33]:  # newer lastmods, the same pages
        article.modified = time.time()
    site.version += 1
    monkeypatch.setenv("ARCHIVER_NOW", utc_after(400 * 86400))
    third = run_crawl(server.seeds, db, ["REVISIT_MAX_PER_RUN=1", "DEGRADED_AFTER_DAYS_WITHOUT_NEW=-1"])
    assert third.returncode == 0, third.log[-3000:]
    assert re.search(r"Revisiting 1 of the \d+ archived articles due \(at most 1 a run\)", third.log)
    assert "archived articles changed since fetched 3, checked now 1, due next run 2" in third.log


def test_turned_off_neither_sitemaps_nor_feeds_are_read(server, tmp_path):
    profile = tmp_path / "csto-nositemaps.toml"
    text = (PROFILE_DIR / "csto.toml").read_text(encoding="utf-8")
    profile.write_text(text.replace("sitemaps = true", "sitemaps = false"), encoding="utf-8")
    hits = len(server.hits)
    result = run_crawl(server.seeds, tmp_path / "archive.db", ["FEEDS_ENABLED=0"], ["-a", f"profile={profile}"])
    assert result.returncode == 0, result.log[-3000:]
    paths = [hit["path"] for hit in server.hits[hits:]]
    assert not [path for path in paths if "sitemap" in path or path == "/rss/"], paths
    stored = {row["url"] for row in rows(tmp_path / "archive.db", "select url from articles")}
    assert not only_in_sitemaps(server) & stored


# -- reading feeds (pure) ------------------------------------------------------------------------------------

RSS = b"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>t</title>
<item><title>  First   news </title><link>/news/a/first/</link><pubDate>Thu, 01 Oct 2026 12:00:00 +0300</pubDate></item>
<item><title>No link</title></item>
<item><title>Second</title><guid>https://example.org/news/a/second/</guid><atom:updated>2026-10-03T08:00:00Z</atom:updated></item>
</channel></rss>"""
ATOM = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>One</title><link rel="alternate" href="https://example.org/news/a/one/"/>
<link rel="enclosure" href="https://example.org/a.mp3"/><published>2026-10-01T10:00:00+03:00</published>
<updated>2026-10-02T10:00:00+03:00</updated></entry></feed>"""


def test_rss_and_atom_items_are_listing_entries():
    first, second = read_feed(RSS, "https://example.org/rss/")
    assert (first.url, first.title, first.date, first.updated) == \
        ("https://example.org/news/a/first/", "First news", "2026-10-01", None)
    assert (second.url, second.date, second.updated) == \
        ("https://example.org/news/a/second/", None, "2026-10-03T08:00:00+00:00")
    (one,) = read_feed(ATOM, "https://example.org/atom/")
    assert (one.url, one.date, one.updated) == \
        ("https://example.org/news/a/one/", "2026-10-01", "2026-10-02T07:00:00+00:00")


@pytest.mark.parametrize("body", [b"", b"<html><body>Not found</body></html>", b"\x1f\x8b\x08garbage"])
def test_what_is_not_a_feed_says_so(body):
    with pytest.raises(FeedError):
        read_feed(body, "https://example.org/rss/")


def test_the_feeds_a_page_links():
    html = b"""<html><head><link rel="alternate" type="application/rss+xml" href="/rss/">
    <link rel="alternate" hreflang="ru" href="https://example.org/ru/"><link rel="stylesheet" href="/a.css">
    <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="https://example.org/atom.xml">
    </head><body></body></html>"""
    assert alternate_feeds(html, "https://example.org/news/") == ["https://example.org/rss/",
                                                                  "https://example.org/atom.xml"]
