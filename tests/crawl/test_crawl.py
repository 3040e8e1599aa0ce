"""End to end: a real `scrapy crawl news` against the replica, the archive checked against its ground truth."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from archiver.extraction.normalize import paragraphs
from archiver.profiles import fold_text


@pytest.fixture(scope="module")
def truth(replica):
    return {article["url"]: article for article in replica.site.ground_truth(replica.base_urls)}


@pytest.fixture(scope="module")
def stored(first_crawl):
    return {row["url"]: row for row in first_crawl.rows("select * from articles")}


def test_crawl_exits_cleanly(first_crawl):
    assert first_crawl.returncode == 0, first_crawl.log[-3000:]
    assert "Traceback" not in first_crawl.log


def test_crawl_opens_no_console_server(first_crawl):
    """Neither Scrapy's telnet console nor its remote-control HTTP server listens during a crawl."""
    assert "INFO: Spider opened" in first_crawl.log  # the log is the INFO-level one
    assert "Telnet console listening" not in first_crawl.log
    assert "Remote control HTTP server listening" not in first_crawl.log


def test_every_article_archived_and_nothing_else(truth, stored):
    missing = sorted(set(truth) - set(stored))
    junk = sorted(set(stored) - set(truth))
    assert not missing, f"{len(missing)} articles missing, e.g. {missing[:5]}"
    assert not junk, f"{len(junk)} rows that are not articles, e.g. {junk[:5]}"
    assert len(truth) >= 100
    assert {row["language"] for row in stored.values()} == {"en", "ru"}


def test_titles_dates_languages_and_sections_exact(truth, stored):
    for url, expected in truth.items():
        row = stored[url]
        assert row["title"] == expected["title"], url
        assert row["published"] == expected["published"], url
        assert row["language"] == expected["language"], url
        assert row["section"] == expected["section"], url
        assert row["section_url"] == expected["section_url"], url


def test_article_without_date_is_kept_and_flagged(truth, stored):
    undated = [url for url, expected in truth.items() if expected["published"] is None]
    assert undated, "the replica should hold an undated article"
    for url in undated:
        assert stored[url]["published"] is None and stored[url]["date_missing"] == 1


def test_text_has_every_paragraph_and_no_boilerplate(truth, stored):
    for url, expected in truth.items():
        lines = paragraphs(stored[url]["text"])
        table_rows = {" | ".join(row) for table in expected.get("tables") or () for row in table}
        allowed = set(expected["paragraphs"]) | set(expected.get("captions") or ()) | table_rows
        assert table_rows <= set(lines), url
        assert [line for line in lines if line in expected["paragraphs"]] == expected["paragraphs"], url
        assert [line for line in lines if line not in allowed] == [], url
        boilerplate = {fold_text(line) for line in expected["boilerplate"]}
        assert not [line for line in lines if fold_text(line) in boilerplate], url


def test_images_complete_with_alt_and_caption(truth, first_crawl):
    for url, expected in truth.items():
        images = first_crawl.rows(
            "select src, alt, caption from images join articles on articles.id = images.article_id "
            "where articles.url = ? order by position", url)
        assert [dict(image) for image in images] == [
            {"src": image["src"], "alt": image["alt"], "caption": image["caption"]} for image in expected["images"]
        ], url


def test_no_duplicates(first_crawl):
    assert first_crawl.rows("select count(*) - count(distinct url) from articles")[0][0] == 0
    assert first_crawl.rows("select count(*) - count(distinct content_hash) from articles")[0][0] == 0


def test_never_leaves_the_seed_hosts_nor_falls_into_traps(replica, first_crawl):
    seed_hosts = {urlsplit(seed).netloc for seed in replica.seeds}
    hosts = {hit["host"] for hit in first_crawl.hits}
    assert hosts <= seed_hosts, hosts - seed_hosts
    paths = [hit["path"] for hit in first_crawl.hits]
    assert not [p for p in paths if p.startswith("/search/")]
    assert not [p for p in paths if "print=" in p.lower()]
    assert not [p for p in paths if p.startswith("/news/closed/")]  # robots.txt Disallow
    assert not [p for p in paths if "/calendar/" in p]
    # Documents and images are never crawled as pages: the articles' own are downloaded as media
    # (archiver.capture.media), what pages show as their requisites (archiver.capture.requisites); neither is a page
    # of the crawl state.
    crawled = [row["url"] for row in first_crawl.rows("select url from pages")]
    assert not [url for url in crawled if urlsplit(url).path.lower().endswith(NOT_PAGES)]


# Media and page requisites (stylesheets, scripts, fonts, images), counted apart from pages.
NOT_PAGES = (".pdf", ".jpg", ".png", ".css", ".js", ".woff", ".woff2", ".svg")


def test_requests_stay_close_to_the_number_of_pages(truth, first_crawl):
    requests = len([hit for hit in first_crawl.hits if not urlsplit(hit["path"]).path.lower().endswith(NOT_PAGES)])
    # Articles, listings of each section and language, and the traps' first step.
    assert requests < 1.8 * len(truth), requests


def test_bad_input_gets_a_clear_log_line(first_crawl):
    log = first_crawl.log
    for expected in ("Gone (HTTP 404)", "Gone (HTTP 410)", "HTTP 500, given up after retries",
                     "Redirect loop", "Unusable page (empty body)", "Unusable page (binary body)",
                     "No date found, kept and flagged", "larger than download max size"):
        assert expected in log, expected


def test_recrawl_adds_no_rows(replica, first_crawl, crawl, tmp_path):
    db = tmp_path / "archive.db"
    db.write_bytes(first_crawl.db_path.read_bytes())
    before = first_crawl.rows("select count(*) from articles")[0][0]
    again = crawl(replica.seeds, db)
    assert again.returncode == 0
    assert again.rows("select count(*) from articles")[0][0] == before
    assert again.rows("select count(*) - count(distinct url) from articles")[0][0] == 0


def test_redirects_to_an_article_already_requested_become_its_aliases(replica, crawl, tmp_path):
    """The redirect chain ends on a page the crawl requested first (the duplicate filter drops the
    end of the chain): the URLs it came through are still recorded as the article's aliases."""
    base = replica.base_urls["en"]
    target = next(a for a in replica.site.articles("en") if a.role == "redirect_target")
    old = f"{base}/news/old/{target.item + 1000}/"
    article_url = base + target.path
    # One request at a time: the article is requested before the old URL's chain ends on it.
    hits_before = len(replica.hits)
    result = crawl([article_url, old], tmp_path / "archive.db", ["CONCURRENT_REQUESTS=1", "DEPTH_LIMIT=1"])
    assert result.returncode == 0, result.log[-3000:]
    fetched = [hit["path"] for hit in replica.hits[hits_before:] if hit["path"] == target.path]
    assert len(fetched) == 1, "the end of the redirect chain must not be fetched a second time"
    aliases = {url for (url,) in result.rows(
        "select url_aliases.url from url_aliases join articles on articles.id = article_id where articles.url = ?",
        article_url)}
    assert old in aliases
    assert any("/news/redirect/" in url for url in aliases), aliases


def test_a_crawl_started_from_the_home_pages_archives_the_site(replica, truth, crawl, tmp_path):
    """Seeds outside the profile's paths (the home page, with its press tab and "All CSTO News") are fetched
    all the same: they were judged as links and dropped, and the run archived nothing."""
    homes = [replica.base_urls[language] + "/" for language in ("en", "ru")]
    result = crawl(homes, tmp_path / "archive.db")
    assert result.returncode == 0, result.log[-3000:]
    stored = {url for (url,) in result.rows("select url from articles")}
    assert stored == set(truth), (sorted(set(truth) - stored)[:5], sorted(stored - set(truth))[:5])
