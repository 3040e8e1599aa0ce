"""Extraction of every replica article, straight from its HTML (no crawl): both flavours of the
site, with the site profile and with a profile that knows no selector of the article's markup."""

from __future__ import annotations

import dataclasses
import urllib.request
from urllib.parse import urlsplit

import pytest

from archiver.extraction.extract import extract_article
from archiver.extraction.normalize import paragraphs
from archiver.crawl.workers import summarize  # extraction's summary with the search stems, as a worker makes it
from archiver.profiles import load_profile
from archiver.replica import ReplicaSite, serve_replica
from archiver.archive.stemming import article_stems, stem_word, words

CSTO = load_profile("csto")
# The same site knowledge minus the article selectors: extraction must fall back on page layout.
NO_SELECTORS = dataclasses.replace(CSTO, container_selectors=(), title_selectors=(), date_selectors=())


def fetch(url: str) -> bytes:
    for _ in range(4):  # the replica's flaky article answers 503 twice
        try:
            return urllib.request.urlopen(url, timeout=10).read()
        except OSError:
            continue
    raise AssertionError(f"cannot fetch {url}")


@pytest.fixture(scope="module", params=["classic", "variant"])
def pages(request):
    site = ReplicaSite(60, seed=1, flavour=request.param)
    with serve_replica(site, port=0, slow_seconds=0.1, huge_page_bytes=100_000) as server:
        yield [(truth, fetch(truth["url"])) for truth in site.ground_truth(server.base_urls)]


@pytest.mark.parametrize("profile", [CSTO, NO_SELECTORS], ids=["profile", "no-selectors"])
def test_every_article_extracted_exactly(pages, profile):
    wrong = []
    for truth, html in pages:
        article = extract_article(html, truth["url"], profile)
        lines = paragraphs(article.text)
        allowed = set(truth["paragraphs"]) | set(truth.get("captions") or ()) | set(truth.get("optional_lines") or ())
        allowed |= {" | ".join(row) for table in truth.get("tables") or () for row in table}
        problems = {
            "not an article": not article.is_article,
            "title": article.title != truth["title"],
            "date": article.published != truth["published"],
            "missing paragraphs": [p for p in truth["paragraphs"] if p not in lines],
            "extra lines": [line for line in lines if line not in allowed],
            "images": [i.src for i in article.images] != [i["src"] for i in truth["images"]],
            "section": article.section != truth["section"],
        }
        problems = {name: value for name, value in problems.items() if value}
        if problems:
            wrong.append((truth["url"], problems))
    assert not wrong, f"{len(wrong)} of {len(pages)} articles wrong, e.g. {wrong[:3]}"


def test_article_reached_through_its_second_section_keeps_its_own():
    """Bitrix serves an element of two sections at both paths; rel=canonical names the first."""
    site = ReplicaSite(60, seed=1)
    with serve_replica(site, port=0, slow_seconds=0.1, huge_page_bytes=100_000) as server:
        (truth,) = [t for t in site.ground_truth(server.base_urls)
                    if t["role"] == "two_sections" and t["language"] == "en"]
        other = truth["url"].replace(f"/{truth['section']}/", "/parliamentary_assembly/")
        assert other != truth["url"]
        article = extract_article(fetch(other), other, CSTO)
    assert (article.url, article.section, article.section_url) == (truth["url"], truth["section"],
                                                                   truth["section_url"])


def test_documents_an_article_links_to_are_listed_by_its_page(pages):
    """The page object lists the article's documents (absolute, percent-encoded, with their link
    text); pages without any list none, and the site's menus and footer never count."""
    pdf = "/upload/docs/%D0%97%D0%B0%D1%8F%D0%B2%D0%BB%D0%B5%D0%BD%D0%B8%D0%B5%20%D0%A1%D0%9A%D0%91%20%D0%9E%D0%94" \
          "%D0%9A%D0%91%20%D0%BE%D1%82%2016%20%D0%BC%D0%B0%D1%8F%202022.pdf"
    for truth, html in pages:
        documents = summarize(truth["url"], html, CSTO).documents
        if truth.get("role") == "pdf":
            assert [urlsplit(d["url"]).path for d in documents] == [pdf], truth["url"]
            assert documents[0]["url"].startswith(truth["url"].split("/news/")[0])
            assert documents[0]["text"] and "%" not in documents[0]["text"]
        else:
            assert documents == [], truth["url"]


def test_an_article_page_summary_carries_its_search_stems_and_a_listing_none(pages):
    """The stems the archive's search needs are made with the extraction (in the workers, on every core)."""
    for truth, html in pages:
        summary = summarize(truth["url"], html, CSTO)
        title, text = summary.article.title, summary.article.text
        assert summary.search_stems == article_stems(title, text), truth["url"]
        assert summary.search_stems.split("\n")[0].split() == [stem_word(word) for word in words(title)]
        assert len(summary.search_stems.split()) == len(words(title)) + len(words(text)) > 20
    section_url = pages[0][0]["section_url"]
    listing = summarize(section_url, fetch(section_url), CSTO)
    assert listing.is_listing and listing.search_stems is None
