"""Hubs and revisits, end to end: a section linked only from the home pages, found by a crawl seeded at /news/ and
named from its listing; body-only edits caught by incremental runs revisiting due articles (with validators, and
from a server without them); the revisit schedule doubling and halving."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from archiver.clock import utc_after
from archiver.replica import ReplicaSite, serve_replica, texts

from conftest import SLOW_SECONDS, rows

# Links only: no sitemap nor feed shows the crawl the home-only section or an edit.
LINKS_ONLY = ["SITEMAPS_ENABLED=0", "FEEDS_ENABLED=0"]
# Runs "later": every archived article due (the clock stopped by ARCHIVER_NOW), no health check on dates.
LATER = LINKS_ONLY + ["REVISIT_MAX_PER_RUN=1000", "DEGRADED_AFTER_DAYS_WITHOUT_NEW=-1"]


@pytest.fixture(scope="module")
def server():
    site = ReplicaSite(articles_per_language=34, seed=3)
    with serve_replica(site, port=0, slow_seconds=SLOW_SECONDS, huge_page_bytes=1_000_000) as running:
        running.site = site
        yield running


@pytest.fixture(scope="module")
def first(server, tmp_path_factory):
    from conftest import run_crawl

    db = tmp_path_factory.mktemp("revisits") / "archive.db"
    result = run_crawl(server.seeds, db, LINKS_ONLY)
    assert result.returncode == 0, result.log[-3000:]
    return db


def later_crawl(server, db, days: int, monkeypatch):
    from conftest import run_crawl

    monkeypatch.setenv("ARCHIVER_NOW", utc_after(days * 86400))
    hits = len(server.hits)
    result = run_crawl(server.seeds, db, LATER)
    assert result.returncode == 0, result.log[-3000:]
    return result, server.hits[hits:]


def test_seeded_at_news_the_home_only_section_is_archived_with_its_title(server, first):
    assert all(seed.endswith("/news/") for seed in server.seeds)
    for language in ("en", "ru"):
        expected = [server.base_urls[language] + a.path for a in server.site.articles(language)
                    if a.sections[0] == texts.HOME_ONLY_SECTION]
        assert len(expected) == 2
        found = rows(first, "select url, section, section_title from articles where section = ?",
                     texts.HOME_ONLY_SECTION)
        found = {row["url"]: row["section_title"] for row in found if row["url"] in expected}
        assert found == {url: texts.SECTION_TITLES[texts.HOME_ONLY_SECTION][language] for url in expected}
    # The home pages were read as hubs, never archived.
    homes = [base + "/" for base in server.base_urls.values()]
    assert rows(first, f"select count(*) from articles where url in ({', '.join('?' * len(homes))})", *homes)[0][0] == 0
    assert rows(first, "select count(*) from pages where url = ? and http_status = 200", homes[1])[0][0] == 1


def test_a_new_article_is_scheduled_at_a_twentieth_of_its_age(first):
    scheduled = rows(first, "select articles.published, articles.fetched_at, pages.revisit_interval,"
                            " pages.next_revisit from pages join articles using (url)")
    assert len(scheduled) > 60
    assert sum(1 for row in scheduled if row["published"] is None) < len(scheduled) / 4
    for row in scheduled:
        fetched = datetime.fromisoformat(row["fetched_at"])
        if row["published"] is None:  # no date, no age: a day
            expected = 86400
        else:
            published = datetime.fromisoformat(row["published"])
            published = published if published.tzinfo else published.replace(tzinfo=timezone.utc)
            expected = min(90 * 86400, max(3600, (fetched - published).total_seconds() / 20))
        # Scheduled when the article was written, a moment after it was fetched.
        assert abs(row["revisit_interval"] - expected) <= 60, (dict(row), expected)
        due = datetime.fromisoformat(row["next_revisit"]) - fetched
        assert abs(due.total_seconds() - row["revisit_interval"]) <= 120, row


def test_body_only_edits_are_caught_by_revisits_with_and_without_validators(server, first, monkeypatch):
    site, db = server.site, first
    plain = [a for a in site.articles("en") if not a.role and a.sections[0] != texts.HOME_ONLY_SECTION]
    edited, unchanged = plain[0], plain[1]
    edited_url, unchanged_url = (server.base_urls["en"] + a.path for a in (edited, unchanged))
    listing_before = rows(db, "select listing_title, listing_date from articles where url = ?", edited_url)[0]
    interval = {url: rows(db, "select revisit_interval from pages where url = ?", url)[0][0]
                for url in (edited_url, unchanged_url)}
    site.edit_body(edited.key)

    result, hits = later_crawl(server, db, 100, monkeypatch)
    assert "1 updated" in result.log, result.log[-1500:]
    article = rows(db, "select * from articles where url = ?", edited_url)[0]
    assert texts.UI["en"]["edited_para"].strip() in article["text"]
    assert (article["listing_title"], article["listing_date"]) == tuple(listing_before)
    assert len(rows(db, "select * from article_versions where article_id = ?", article["id"])) == 1
    # The others were asked conditionally, and answered "not modified".
    english = server.base_urls["en"].split("//")[1]
    statuses = [hit["status"] for hit in hits if hit["path"] == unchanged.path and hit["host"] == english]
    assert statuses == [304], statuses
    after = {url: rows(db, "select revisit_interval from pages where url = ?", url)[0][0]
             for url in (edited_url, unchanged_url)}
    assert after[edited_url] == max(3600, interval[edited_url] // 2)
    assert after[unchanged_url] == min(90 * 86400, interval[unchanged_url] * 2)

    # A server without validators: due articles get plain GETs, edits found by their content hash.
    server.send_validators = False
    try:
        other = plain[2]
        site.edit_body(other.key)
        result, hits = later_crawl(server, db, 300, monkeypatch)
    finally:
        server.send_validators = True
    assert "1 updated" in result.log, result.log[-1500:]
    other_row = rows(db, "select id, text from articles where url = ?", server.base_urls["en"] + other.path)[0]
    assert texts.UI["en"]["edited_para"].strip() in other_row["text"]
    assert len(rows(db, "select * from article_versions where article_id = ?", other_row["id"])) == 1
    assert [hit["status"] for hit in hits if hit["path"] == unchanged.path and hit["host"] == english] == [200]
