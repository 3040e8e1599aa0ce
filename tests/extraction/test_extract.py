"""Extraction as a pure function of pages: no Scrapy, no network.

What extraction makes of each saved page, field by field, is checked by the golden cases (test_golden.py,
tests/fixtures/); these tests check what a golden field cannot say: the relation to trafilatura's own text,
bytes and str alike, pages without an address, bodies that are no pages, and the helpers' rules.
"""

from __future__ import annotations

from pathlib import Path

import trafilatura

from archiver.extraction.extract import extract_article
from archiver.extraction.normalize import clean_text, paragraphs

PAGES = Path(__file__).parent.parent / "fixtures"


def saved(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def test_unknown_site_text_is_trafilaturas_own():
    html = saved("generic_blog.html")
    url = "https://gazette.example.org/news/harbour-bridge-reopens/"
    article = extract_article(html, url)
    direct = trafilatura.extract(html.decode(), url=url, include_comments=False)
    assert article.extractor == "generic"
    assert paragraphs(article.text) == paragraphs(clean_text(direct))
    assert article.is_article


def test_bytes_and_str_give_the_same_article():
    html = saved("generic_blog.html")
    url = "https://gazette.example.org/news/harbour-bridge-reopens/"
    assert extract_article(html, url) == extract_article(html.decode("utf-8"), url)


def test_a_page_without_an_address_is_still_read():
    html = saved("generic_blog.html")
    article = extract_article(html, None)
    assert article.title == "Harbour bridge reopens after two years of repairs"
    assert paragraphs(article.text) == paragraphs(extract_article(html, "").text) and article.text


def test_empty_and_binary_bodies_are_not_articles():
    url = "https://odkb-csto.org/news/news_odkb/x/"
    assert extract_article(b"", url).reason == "empty body"
    assert extract_article(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), url).reason == "binary body"
    assert not extract_article("   ", url).is_article


def test_document_links_absolute_encoded_and_never_a_crash():
    import lxml.html

    from archiver.extraction.images import document_links

    tree = lxml.html.fromstring(
        '<html><body><nav><a href="/menu.pdf">menu</a></nav><div class="news-detail">'
        '<a href="http://[broken/x.pdf">broken</a><a href=" /upload/Заявление 1.PDF#page=2 ">Statement <b>one</b></a>'
        '<a href="x.docx">relative</a><a href="javascript:open(\'y.pdf\')">script</a><a href="/news/a/">page</a>'
        '<a href="x.docx">again</a></div></body></html>')
    assert document_links(tree, "http://h/news/a/b/", (".news-detail",)) == [
        {"url": "http://h/upload/%D0%97%D0%B0%D1%8F%D0%B2%D0%BB%D0%B5%D0%BD%D0%B8%D0%B5%201.PDF#page=2",
         "text": "Statement one"},
        {"url": "http://h/news/a/b/x.docx", "text": "relative"},
    ]
    # No container found: the whole page counts, menus included.
    assert [d["url"] for d in document_links(tree, "http://h/", (".nothing",))][:1] == ["http://h/menu.pdf"]


def test_a_pages_links_are_read_once_and_shared():
    from archiver.extraction import htmltree, hyperlinks

    tree = htmltree.parse('<html><body><a href=" /news/a/ "> A <b>headline</b> </a><a>no href</a>'
                          '<map><area href="http://other.example/x"></map><a href="">empty</a>'
                          '<a href="c/">Tom&nbsp;&amp; <!-- not text -->Jerry\n</a></body></html>')
    table = hyperlinks.anchors(tree, "http://site.example/news/")
    assert [(a.tag, a.href, a.url, a.text, a.followable) for a in table] == [
        ("a", "/news/a/", "http://site.example/news/a/", "A headline", True),
        ("area", "http://other.example/x", "http://other.example/x", "", True),
        ("a", "", "", "empty", False),
        ("a", "c/", "http://site.example/news/c/", "Tom & Jerry", True)]
    assert not any(map(hyperlinks.followable, ("#top", "JavaScript:history.back()", "mailto:a@b", "tel:1", "")))
    assert hyperlinks.anchors(tree, "http://site.example/news/") is table  # built once per tree
    assert hyperlinks.anchors(tree, "http://elsewhere.example/")[0].url == "http://elsewhere.example/news/a/"


def test_furniture_marks_match_whatever_their_case():
    from archiver.extraction import htmltree
    from archiver.extraction.images import collect_images
    from archiver.extraction.pages import in_pager

    tree = htmltree.parse('<html><body><div class="Main-Footer" id="x">f</div><div class="Article">a</div>'
                          '<p><img src="/i/Site-LOGO.PNG" width="300" height="200"><img src="/i/Photo.JPG"></p>'
                          '<div class="BX-Pagination"><a href="?PAGEN_1=2">2</a></div></body></html>')
    footer, article = htmltree.select(tree, "div")[:2]
    assert htmltree.is_chrome(footer) and not htmltree.is_chrome(article)
    assert [image.src for image in collect_images(tree, "http://site.example/")] == ["http://site.example/i/Photo.JPG"]
    assert in_pager(next(tree.iter("a")))


def test_documents_an_article_links_to_are_never_crawled_as_pages():
    from archiver.extraction import htmltree
    from archiver.extraction.images import document_links
    from archiver.extraction.pages import is_document_url

    types = ["pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "djvu", "EPUB"]
    tree = htmltree.parse("<html><body>" + "".join(f'<a href="/files/f.{t}">{t}</a>' for t in types)
                          + "</body></html>")
    documents = document_links(tree, "http://site.example/news/a/")
    assert [d["text"] for d in documents] == types
    assert all(is_document_url(d["url"]) for d in documents)
