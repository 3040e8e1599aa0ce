"""Bytes in, article out: charsets that do not match the page, NUL bytes, binary bodies and deep nesting."""

from __future__ import annotations

import random

import pytest

from archiver.extraction import charsets
from archiver.extraction.extract import extract_article
from archiver.extraction.pages import summarize

URL = "https://odkb-csto.org/news/news_odkb/zasedanie/"
TITLE = "Заседание Совета министров иностранных дел ОДКБ"
PARAGRAPHS = ["Министры иностранных дел государств – членов ОДКБ обсудили ситуацию в зоне ответственности "
              "Организации и подписали заявление о сотрудничестве.",
              "Следующее заседание Совета пройдёт в Минске; в нём примут участие генеральный секретарь и "
              "постоянные представители государств – членов Организации."]


def article_page(title: str = TITLE, head: str = "", depth: int = 0, nest: str = "div") -> str:
    """A CSTO article; its text nested ``depth`` times in ``nest`` elements inside the article's container
    (``nest``: a tag, or two nested tags as "ul li")."""
    text = "".join(f"<p>{paragraph}</p>" for paragraph in PARAGRAPHS)
    tags = nest.split()
    opening, closing = "".join(f"<{tag}>" for tag in tags), "".join(f"</{tag}>" for tag in reversed(tags))
    return (f"<!DOCTYPE html><html><head>{head}<title>{title}</title></head><body>"
            f'<div class="news-detail"><h1>{title}</h1><span class="news-date-time">03.07.2020</span>'
            f"{opening * depth}{text}{closing * depth}</div></body></html>")


def read(body: bytes, content_type: str | None, url: str = URL):
    summary = summarize(url, body, "csto", content_type=content_type)
    assert summary.problem is None, summary.problem
    return summary


def assert_article(article, title: str = TITLE) -> None:
    assert article.is_article, article.reason
    assert article.title == title
    assert article.text.split("\n\n") == PARAGRAPHS
    assert article.published == "2020-07-03"


def test_bytes_that_fit_the_declared_charset_are_read_once_without_detection(monkeypatch):
    monkeypatch.setattr(charsets, "autodetect_encoding", lambda *args, **kwargs: pytest.fail("detection ran"))
    for charset in ("utf-8", "windows-1251"):
        summary = read(article_page().encode(charset), f"text/html; charset={charset}")
        assert_article(summary.article)
        assert summary.decoding is None  # nothing worth a log line


def test_a_cp1251_body_under_a_utf8_header_is_read_as_cp1251():
    for head in ("", '<meta charset="windows-1251">'):  # by detection, and by the <meta> charset
        summary = read(article_page(head=head).encode("cp1251"), "text/html; charset=utf-8")
        assert_article(summary.article)
        decoding = summary.decoding
        assert (decoding.charset, decoding.declared, decoding.clean) == ("cp1251", "utf-8", True)
        assert decoding.describe() == "utf-8 declared, read as cp1251"


def test_a_utf8_body_under_a_cp1251_header_is_read_as_utf8_not_as_mojibake():
    summary = read(article_page().encode("utf-8"), "text/html; charset=windows-1251")
    assert_article(summary.article)
    assert (summary.decoding.charset, summary.decoding.declared, summary.decoding.clean) == ("utf-8", "cp1251", True)


def test_the_meta_charset_comes_before_detection():
    body = article_page(head='<meta charset="koi8-r">').encode("koi8-r", "xmlcharrefreplace")  # "–" as &#8211;
    summary = read(body, "text/html; charset=utf-8")
    assert_article(summary.article)
    assert summary.decoding.charset == "koi8-r" and summary.decoding.tried == ("utf-8", "koi8-r")


def test_utf8_with_a_cut_character_stays_utf8_and_is_flagged():
    """A title cut inside a character (a CMS's truncation): no charset fits, the page is read as UTF-8 with
    one replacement character, and flagged for a warning; never read as windows-1251 mojibake."""
    title = TITLE.encode("utf-8")[:-1]  # the last letter's first byte only
    body = article_page().encode("utf-8").replace(TITLE.encode("utf-8"), title, 1)
    for declared in ("utf-8", "windows-1251"):
        summary = read(body, f"text/html; charset={declared}")
        assert summary.decoding.charset == "utf-8" and not summary.decoding.clean
        assert summary.decoding.describe().endswith("read as utf-8 with replacement characters")
        assert summary.article.text.split("\n\n") == PARAGRAPHS


def test_a_nul_in_the_title_is_stripped_and_the_page_kept():
    body = article_page(title="Заседание Совета\x00 министров иностранных дел ОДКБ").encode("utf-8")
    assert_article(read(body, "text/html; charset=utf-8").article)
    assert_article(extract_article(body.decode("utf-8"), URL))  # text given as text too
    assert_article(summarize(URL, body.replace(b"\x00", b"\x00" * 5), "csto").article)  # and a few


def random_bytes(size: int = 20_000) -> bytes:
    return random.Random(7).randbytes(size)


@pytest.mark.parametrize("body", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random_bytes(),
    b"%PDF-1.7\n" + random_bytes(),
    b"\xff\xd8\xff\xe0\x00\x10JFIF" + random_bytes(),
    b"\x1f\x8b\x08\x00" + random_bytes(),  # a page compressed twice
    bytes(range(32)) * 300,  # control characters
    b"\x00" * 5000,
    random_bytes(),  # decodes "cleanly" as windows-1251 on a .ru host: judged as bytes first
], ids=["png", "pdf", "jpeg", "gzip", "controls", "nuls", "random"])
def test_a_binary_body_is_still_a_binary_body(body):
    for content_type in ("text/html; charset=utf-8", "text/html", None):
        assert summarize("https://odkb-csto.ru/news/news_odkb/x/", body, "csto", content_type).problem == "binary body"


def test_utf16_text_is_not_binary_for_its_nul_bytes():
    body = article_page().encode("utf-16")  # with its byte order mark
    assert_article(read(body, "text/html").article)
    assert_article(read(article_page().encode("utf-16-le"), "text/html; charset=utf-16").article)


@pytest.mark.parametrize("depth", [1000, 2000])
def test_a_body_nested_deeper_than_lxmls_default_limit_is_archived(depth):
    body = article_page(depth=depth).encode("utf-8")
    assert_article(read(body, "text/html; charset=utf-8").article)
    # Without a profile's container: trafilatura and the generic path, on the same tree.
    generic = extract_article(body, "https://example.org/news/world/zasedanie/")
    assert generic.title == TITLE and PARAGRAPHS[0] in generic.text


@pytest.mark.parametrize("depth", [2100, 5000])
def test_a_body_nested_deeper_than_the_parser_goes_is_refused_with_a_reason(depth):
    """libxml2 stops at 2,048 levels even for huge trees: the page is refused, not stored cut short."""
    body = article_page(depth=depth).encode("utf-8")
    summary = summarize(URL, body, "csto", content_type="text/html; charset=utf-8")
    assert summary.problem == "nested too deep" and summary.article.reason == "nested too deep"
    assert extract_article(body, URL).reason == "nested too deep"


@pytest.mark.parametrize("nest", ["ul li", "dl dd", "code", "blockquote", "table tr td", "span"])
def test_any_nesting_1000_deep_is_archived_or_refused_as_too_deep_never_an_error(nest):
    """trafilatura recurses on some nestings (lists, code) and slows down with the cube of nested tables: inside
    the profile's container the block walk stands in for it; elsewhere such a page is refused."""
    body = article_page(depth=1000, nest=nest).encode("utf-8")
    summary = summarize(URL, body, "csto", content_type="text/html; charset=utf-8")
    if summary.problem is None:
        assert_article(summary.article)
    else:
        assert summary.problem == summary.article.reason == "nested too deep"
    generic = extract_article(body.replace(b"news-detail", b"story"), "https://example.org/news/world/zasedanie/")
    assert generic.reason == "nested too deep" or PARAGRAPHS[0] in generic.text


def test_a_page_too_deep_for_trafilatura_is_refused_as_too_deep():
    body = article_page(depth=1000, nest="ul li").encode("utf-8").replace(b"news-detail", b"story")
    summary = summarize(URL, body, "csto", content_type="text/html; charset=utf-8")
    assert summary.problem == summary.article.reason == "nested too deep"


def test_tables_nested_deeper_than_trafilatura_can_bear_are_refused():
    assert read(article_page(depth=64, nest="table").encode("utf-8"), "text/html; charset=utf-8").article.is_article
    summary = summarize(URL, article_page(depth=65, nest="table").encode("utf-8"), "csto", "text/html; charset=utf-8")
    assert summary.problem == "nested too deep"
