"""A real browser on Datasette over a crawled archive: headless Chromium at 1400 x 1000 opens the articles list, an
article's page, a search in Russian with an inflected form, and the charts, and checks what a person sees there.
The screenshots it takes are the README's (docs/datasette-*.png): written to the test's temporary folder, and into
docs/ only with UPDATE_SCREENSHOTS=1, so a test run leaves the checkout as it was."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from archiver.archive import explore
from archiver.archive.article_page import paragraphs
from archiver.cli import project_root
from datasette_helpers import Browser, copy_archive, link_stores, serve_datasette

DOCS = project_root() / "docs"
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"
WIDTH, HEIGHT = 1400, 1000
NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("no chromium here (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def archive(first_crawl, tmp_path_factory):
    path = copy_archive(first_crawl.db_path, tmp_path_factory.mktemp("browser") / "data")
    link_stores(first_crawl.db_path, path.parent)
    explore.refresh(path)
    return path


@pytest.fixture(scope="module")
def server(archive):
    with serve_datasette(archive.parent) as running:
        yield running


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return DOCS if UPDATE_SCREENSHOTS else tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    opened = Browser(chromium(), tmp_path_factory.mktemp("profile"), WIDTH, HEIGHT)
    try:
        yield opened
    finally:
        opened.close()


def rows(path: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchall()


def screenshot(browser: Browser, name: str, folder: Path) -> None:
    """A PNG of what the window shows (into docs/, where the README shows it, with UPDATE_SCREENSHOTS=1)."""
    target = folder / name
    browser.screenshot(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and 20_000 < target.stat().st_size < 1_000_000


def test_articles_list(server, browser, archive, shots):
    browser.open(server.url("/archive/articles"))
    headers = browser.js("Array.from(document.querySelectorAll('table.rows-and-columns th'))"
                         ".map(th => th.dataset.column)")
    assert headers[:4] == ["published", "section", "language", "title"]
    text, href = browser.js("(a => [a.textContent, a.getAttribute('href')])"
                            "(document.querySelector('tbody tr td.col-title a'))")
    newest = rows(archive, "SELECT '/archive/articles/' || id, title FROM articles "
                           "WHERE published = (SELECT max(published) FROM articles)")
    assert (href, text) in newest  # the newest article's headline, linking its page
    # The search box and the data are on the first screen, and nothing is wider than the window.
    assert browser.js("document.querySelector('#_search').getBoundingClientRect().bottom") < HEIGHT
    assert browser.js("document.querySelector('tbody tr').getBoundingClientRect().top") < HEIGHT
    assert browser.js(NO_HORIZONTAL_SCROLL)
    screenshot(browser, "datasette-articles.png", shots)


def test_article_page(server, browser, archive, shots):
    article_id, title, text, translation = rows(
        archive, "SELECT a.id, a.title, a.text, t.translation_id FROM articles a "
                 "JOIN translations t ON t.article_id = a.id JOIN images i ON i.article_id = a.id "
                 "WHERE a.language = 'en' AND i.sha256 IS NOT NULL ORDER BY a.published DESC LIMIT 1")[0]
    browser.open(server.url(f"/archive/articles/{article_id}"))
    assert browser.js("document.title") == title
    assert browser.js("document.querySelector('h1').textContent") == title
    assert browser.js("Array.from(document.querySelectorAll('.archiver-body p')).map(p => p.textContent)") \
        == paragraphs(text)
    assert browser.js("document.querySelector('.archiver-translation a').getAttribute('href')") \
        == f"/archive/articles/{translation}"
    # Its images load from the media store (a broken image has no natural width).
    widths = "Array.from(document.querySelectorAll('figure img')).map(i => i.complete && i.naturalWidth)"
    assert browser.wait_for(f"{widths}.length && {widths}.every(Boolean)"), browser.js(widths)
    assert browser.js(NO_HORIZONTAL_SCROLL)
    screenshot(browser, "datasette-article.png", shots)


def test_search_in_russian_finds_other_inflected_forms(server, browser, archive, shots):
    title = rows(archive, "SELECT title FROM articles WHERE language = 'ru' AND text LIKE '%терроризму%' "
                          "ORDER BY published DESC LIMIT 1")[0][0]
    browser.open(server.url("/archive/search", q="терроризма", language=""))
    marks = browser.js("Array.from(document.querySelectorAll('td.col-snippet mark')).map(m => m.textContent)")
    assert "терроризму" in marks
    assert title in browser.js("document.querySelector('table.rows-and-columns').textContent")
    link = browser.js("document.querySelector('td.col-article a').getAttribute('href')")
    assert link.startswith("/archive/articles/")
    assert browser.js(NO_HORIZONTAL_SCROLL)
    screenshot(browser, "datasette-search.png", shots)


def test_charts(server, browser, archive, shots):
    per_month = Counter(month for (month,) in rows(
        archive, "SELECT substr(published, 1, 7) FROM articles WHERE published IS NOT NULL"))
    browser.open(server.url("/-/dashboards/archive"))
    bars = ("Array.from(document.querySelectorAll('#chart-months svg .mark-rect path'))"
            ".map(p => p.getAttribute('aria-label'))")
    labels = browser.wait_for(f"{bars}.length && {bars}")
    assert labels, "no chart drawn"
    # One bar per month (stacked by language): every month is there, with its count.
    drawn = Counter()
    for label in labels:
        month, count = label.split(" ")[0], int(label.rsplit(": ", 1)[1])
        drawn[month] += count
    assert drawn == per_month and len(per_month) > 12
    assert browser.js("document.querySelectorAll('#chart-sections svg .mark-rect path').length") > 0
    assert browser.js(NO_HORIZONTAL_SCROLL)
    screenshot(browser, "datasette-charts.png", shots)
