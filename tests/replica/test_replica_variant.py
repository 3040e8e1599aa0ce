"""The replica's "variant" flavour: its ground truth holds over HTTP and its own traps behave."""

import datetime as dt
import re
import unicodedata

import lxml.html
import pytest

from archiver.replica import ReplicaSite
from archiver.replica.texts import MONTHS_EN, MONTHS_GENITIVE
from test_replica import fetch, get_ok, serving


@pytest.fixture(scope="module")
def server():
    yield from serving("variant")


@pytest.fixture(scope="module")
def truth(server):
    return server.site.ground_truth(server.base_urls)


def clean(text):
    return " ".join(unicodedata.normalize("NFC", text).replace("\u00a0", " ").split())


def parse_any_date(text):
    text = clean(text)
    if m := re.fullmatch(r"(\d\d)\.(\d\d)\.(\d{4})", text):
        return dt.date(int(m[3]), int(m[2]), int(m[1])).isoformat()
    if m := re.fullmatch(r"(\d+) (\w+) (\d{4})( г\.)?", text):
        return dt.date(int(m[3]), MONTHS_GENITIVE.index(m[2]) + 1, int(m[1])).isoformat()
    m = re.fullmatch(r"(\w+) (\d+), (\d{4})", text)
    return dt.date(int(m[3]), MONTHS_EN.index(m[1]) + 1, int(m[2])).isoformat()


def parse(body):
    charset = re.search(rb'<meta charset="([^"]+)"', body)[1].decode()
    return lxml.html.document_fromstring(body.decode(charset)), charset


def test_every_ground_truth_article_matches_its_page(server, truth):
    assert len(truth) == 120
    for rec in truth:
        status, headers, body = get_ok(rec["url"])
        assert status == 200, rec["url"]
        doc, _ = parse(body)
        main = doc.xpath('//div[@class="col-main"]')[0]
        assert clean(main.xpath(".//h1")[0].text_content()) == rec["title"], rec["url"]
        assert not doc.xpath('//*[contains(@class, "news-detail ") or @class="news-detail"]')
        block = main.xpath('.//article[@class="b-news"] | .//div[@class="content-area"]')[0]
        assert not block.xpath('.//*[contains(@class, "news-date-time")]')  # only in the "More news" block
        assert doc.xpath('//div[@class="more-news"]//div[@class="news-date-time"]'), rec["url"]
        for el in block.xpath('.//div[@class="read-also"] | .//div[@class="news-tags"] | .//div[@class="back-links"]'):
            el.drop_tree()
        text = clean(block.text_content())
        for para in rec["paragraphs"]:
            assert para in text, (rec["url"], para)
        dates = block.xpath('.//div[@class="date"] | .//time | .//div[@class="article-info"]')
        if rec["role"] == "body_date":
            assert not dates and rec["optional_lines"] == [block.xpath(".//p/b")[0].text]
            assert parse_any_date(rec["optional_lines"][0]) == rec["published"]
        elif rec["published"] is None:
            assert not dates
        else:
            assert parse_any_date(dates[0].text_content()) == rec["published"], rec["url"]
            if dates[0].tag == "time":
                assert dates[0].get("datetime") == rec["published"]
        for line in rec["boilerplate"]:
            assert line not in rec["paragraphs"]


def test_variant_markup_is_varied(server, truth):
    bodies = [get_ok(r["url"])[2].decode("utf-8", "replace") for r in truth if r["language"] == "en"]
    assert any('<div class="news-detail-wrapper">\n<article class="b-news">' in b for b in bodies)
    assert any(b.index('<h1 class="page-title">') < b.index('breadcrumb-navigation') for b in bodies
               if '<h1 class="page-title">' in b)
    assert any(re.search(r'<time datetime="[\d-]+">\w+ \d+, \d{4}</time>', b) for b in bodies)
    assert any('<div class="back-links">' in b and " | " in b for b in bodies)
    assert any('onclick="history.back();return false;"' in b for b in bodies)
    assert any('<div class="read-also">' in b for b in bodies)
    assert any(re.search(r"<br>\n<em>[^<]+</em></p>", b) for b in bodies)
    assert any('<div style="text-align:right">' in b for b in bodies)
    assert any(r["role"] == "single_para" and len(r["paragraphs"]) == 1 for r in truth)
    ru = [get_ok(r["url"])[2].decode("utf-8", "replace") for r in truth if r["language"] == "ru"][:20]
    assert any("Вернуться к списку новостей" in b for b in ru) and any("Перейти к ленте новостей" in b for b in ru)


def test_cp1251_with_html5_meta(server, truth):
    rec = next(r for r in truth if r["role"] == "cp1251")
    status, headers, body = fetch(rec["url"])
    assert headers["Content-Type"] == "text/html" and b'<meta charset="windows-1251">' in body
    assert rec["title"].encode("cp1251") in body
    others = [r for r in truth if r["language"] == "ru" and r["role"] != "cp1251"][:5]
    assert all(b'<meta charset="UTF-8">' in fetch(r["url"])[2] for r in others)


def test_listings_and_pagen_2(server):
    base = server.base_urls["ru"]
    first = fetch(base + "/news/")[2].decode()
    assert 'class="news-list-item"' in first and "След.</a>" in first and 'href="/news/?PAGEN_1=2"' in first
    section = fetch(base + "/news/parliamentary_assembly/")[2].decode()
    assert '<ul class="list-news">' in section and "PAGEN_2=2" in section and "PAGEN_1=" not in section
    page2 = fetch(base + "/news/parliamentary_assembly/?PAGEN_2=2")[2]
    assert page2 != fetch(base + "/news/parliamentary_assembly/")[2]
    assert fetch(base + "/news/parliamentary_assembly/?PAGEN_1=2")[2] == fetch(base + "/news/parliamentary_assembly/")[2]


def test_archive_calendar_never_runs_out_and_looks_like_articles(server):
    base = server.base_urls["en"]
    assert "/news/archive/2026-10-30/" in fetch(server.seeds[0])[2].decode()
    assert "/news/archive/" not in fetch(server.base_urls["ru"] + "/robots.txt")[2].decode()
    url, seen = base + "/news/archive/2026-10-30/", []
    for _ in range(30):
        status, _, body = fetch(url)
        assert status == 200 and re.fullmatch(r".*/news/[^/]+/[^/]+/", url)
        seen.append(url)
        url = base + re.search(r'href="(/news/archive/[\d-]+/)">Previous day', body.decode())[1]
    assert len(set(seen)) == 30


def test_tag_filters(server, truth):
    base = server.base_urls["ru"]
    body = fetch(truth[-1]["url"])[2].decode("utf-8", "replace")
    href = re.search(r'href="(/news/\?tags=[^"]+)"', body)[1]
    page = fetch(base + href)[2].decode()
    assert page.count('class="news-list-item"') >= 1 and page.count("/news/?tags=") >= 5


def test_traps_and_excluded(server, truth):
    excluded = server.site.ground_truth_excluded(server.base_urls, server.external_url)
    assert not {r["url"] for r in truth} & {e["url"] for e in excluded}
    for e in excluded:
        if e["reason"] in ("404", "410", "always 500", "redirect loop") or e["reason"].startswith("redirect"):
            assert fetch(e["url"])[0] != 200, e
    assert any("/news/archive/" in e["url"] for e in excluded) and any("PAGEN_2=" in e["url"] for e in excluded)


def test_classic_is_the_default():
    base = {"en": "http://127.0.0.1:1", "ru": "http://127.0.0.2:1"}
    assert ReplicaSite(40, seed=1).ground_truth(base) == ReplicaSite(40, seed=1, flavour="classic").ground_truth(base)
    assert ReplicaSite(40, seed=1).flavour == "classic"
    with pytest.raises(ValueError):
        ReplicaSite(40, seed=1, flavour="other")
