"""Extraction as a pure function of saved pages: no Scrapy, no network."""

from __future__ import annotations

from pathlib import Path

import trafilatura

from archiver.extraction.extract import extract_article
from archiver.extraction.normalize import clean_text, paragraphs
from archiver.profiles import load_profile

PAGES = Path(__file__).parent.parent / "fixtures"
CSTO = load_profile("csto")


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


def test_unknown_site_metadata_title_date_images():
    article = extract_article(saved("generic_blog.html"), "https://gazette.example.org/news/harbour-bridge-reopens/")
    # og:title is shortened; the visible headline is the title.
    assert article.title == "Harbour bridge reopens after two years of repairs"
    assert article.published == "2023-05-04T09:30:00"
    assert article.language == "en"
    assert [(i.src, i.alt, i.caption) for i in article.images] == [
        ("https://gazette.example.org/media/2023/05/bridge%20open.jpg", "The reopened bridge",
         "Traffic crosses the bridge on Thursday morning.")]
    assert "Related stories" not in article.text and "All rights reserved" not in article.text


def test_windows_1251_page_with_meta_charset_only():
    article = extract_article(saved("ru_cp1251.html"), "https://odkb-csto.org/news/news_odkb/zasedanie/")
    assert article.extractor == "profile:csto"
    assert article.title == "Заседание Совета министров иностранных дел ОДКБ"
    assert article.published == "2020-07-03"  # 3 July: day first
    assert article.language == "ru"  # from the profile's host (the page declares none)
    assert article.section == "news_odkb" and article.section_url == "https://odkb-csto.org/news/news_odkb/"
    lines = paragraphs(article.text)
    assert lines[-1] == "Пресс-секретарь ОДКБ Владимир Зайнетдинов"
    assert not {"Назад", "Вернуться в раздел", "Вернуться ко всем новостям", "Другая новость"} & set(lines)


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


def test_soft_404_is_not_an_article():
    html = ("<html><body><div class='news-detail'><h1>News</h1><p>Element not found</p></div>"
            "<footer>© 2026</footer></body></html>")
    article = extract_article(html, "https://en.odkb-csto.org/news/news_odkb/missing/", profile=CSTO)
    assert not article.is_article and "too short" in article.reason


def test_listing_is_not_an_article():
    items = "".join(
        f"<div class='news-item'><span class='news-date-time'>0{i}.02.2020</span>"
        f"<a href='/news/news_odkb/item-{i}/'><b>Item {i} title</b></a><p>Teaser {i}: {'words of the teaser ' * 6}</p></div>"
        for i in range(1, 9))
    html = f"<html><body><h1>CSTO News</h1><div class='news-list'>{items}</div></body></html>"
    article = extract_article(html, "https://en.odkb-csto.org/news/news_odkb/", profile=CSTO)
    assert not article.is_article


def test_broken_html_is_still_an_article():
    html = ("<html><body><div class='news-detail'><h1>Broken & but readable</h1><span class='news-date-time'>"
            "05.06.2021</span><p>First paragraph of the article with enough words to count as a body text "
            "<b>bold that never closes<p>Second paragraph, still inside the bold, with more words to make it long "
            "enough for an article body. And a third sentence so that the body is clearly long enough to be an "
            "article.</div></div><p>Third paragraph after a stray closing tag, and more words.")
    article = extract_article(html, "https://en.odkb-csto.org/news/news_odkb/broken/", profile=CSTO)
    assert article.is_article and article.title == "Broken & but readable"
    assert article.published == "2021-06-05"
    assert paragraphs(article.text)[0].startswith("First paragraph")


def test_an_article_full_of_links_to_other_articles_is_still_an_article():
    """Links inside sentences are references, not a listing's headlines, however many there are."""
    sentences = "".join(
        f"<p>In the {n}th session the delegates returned to <a href='/world/2024/05/session-report-{n}/'>the"
        f" report of the working group number {n}</a> and voted on the amendments it proposed, after a long"
        f" debate about the budget and the calendar of the next meetings.</p>" for n in range(1, 9))
    html = (f"<html><head><title>Delegates vote on the amendments</title></head><body><header><nav>"
            f"<a href='/'>Home</a> <a href='/world/'>World</a></nav></header><article><h1>Delegates vote on the"
            f" amendments</h1><time datetime='2024-05-21T10:00'>21 May 2024</time>{sentences}</article>"
            f"<footer>© Gazette</footer></body></html>")
    article = extract_article(html, "https://gazette.example.org/world/2024/05/delegates-vote/")
    assert article.is_article, article.reason
    assert article.published == "2024-05-21T10:00:00"
    assert "the report of the working group number 8" in article.text


def test_a_listing_of_standalone_headlines_stays_a_listing_on_an_unknown_site():
    items = "".join(
        f"<li><h3><a href='/world/2024/05/story-{n}/'>Story number {n} of the day in the world</a></h3>"
        f"<time>2{n}.05.2024</time><p>{'A short teaser of the story. ' * 3}</p></li>" for n in range(1, 9))
    html = f"<html><body><h1>World</h1><ul class='stories'>{items}</ul></body></html>"
    article = extract_article(html, "https://gazette.example.org/world/")
    assert not article.is_article and article.reason == "listing page"


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
