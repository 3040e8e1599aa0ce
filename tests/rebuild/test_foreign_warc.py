"""WARC files written by another tool (warcio here, as Heritrix or wget would write them): WARC/1.0, gzipped per
record or not, with a redirect, an image, a stylesheet, a body sent gzip-encoded and two revisits, rebuild into
the expected articles, aliases and media."""

from __future__ import annotations

import gzip
import hashlib
from io import BytesIO

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from hostile import article, listing
from conftest import rows
from test_rebuild import rebuild

SITE = "http://news.example.org"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8 + b"\xff\xd9"
TITLES = {"/news/first/": "Министры обсудили сотрудничество в Минске",
          "/news/second/": "Секретари советов безопасности провели заседание"}


def write_warc(path, gzipped: bool) -> None:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=gzipped, warc_version="WARC/1.0")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "another crawler 1.0"}))

        def response(url, body, content_type, status="200 OK", headers=()):
            http = StatusAndHeaders(status, [("Content-Type", content_type), *headers], protocol="HTTP/1.1")
            record = writer.create_warc_record(url, "response", payload=BytesIO(body), length=len(body),
                                               http_headers=http)
            writer.write_record(record)
            request = writer.create_warc_record(url, "request", payload=BytesIO(b""), length=0, http_headers=
                                                StatusAndHeaders(f"GET {url} HTTP/1.1", [("Host", "x")],
                                                                 is_http_request=True))
            writer.write_record(request)
            return record

        def revisit(url, original):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            headers = original.rec_headers
            writer.write_record(writer.create_revisit_record(
                url, headers.get_header("WARC-Payload-Digest"), headers.get_header("WARC-Target-URI"),
                headers.get_header("WARC-Date"), http_headers=http))

        html = "text/html; charset=utf-8"
        response(SITE + "/news/", listing(TITLES).encode(), html)
        first = response(SITE + "/news/first/", article(TITLES["/news/first/"], images=["/img/one.jpg"]).encode(),
                         html)
        response(SITE + "/img/one.jpg", JPEG, "image/jpeg")
        response(SITE + "/style.css", b"body { color: black }", "text/css")
        second = response(SITE + "/news/second/", gzip.compress(article(TITLES["/news/second/"]).encode()), html,
                          headers=[("Content-Encoding", "gzip")])
        response(SITE + "/old/1021/", b"", "text/html", status="301 Moved Permanently",
                 headers=[("Location", "/news/first/")])
        revisit(SITE + "/news/first/", first)  # fetched again, the same bytes
        revisit(SITE + "/news/second-copy/", second)  # the same bytes under another URL


@pytest.mark.parametrize("gzipped", [True, False], ids=["gzip per record", "uncompressed"])
def test_a_foreign_warc_rebuilds_into_the_expected_articles(tmp_path, gzipped):
    warc = tmp_path / ("crawl.warc.gz" if gzipped else "crawl.warc")
    write_warc(warc, gzipped)
    db = tmp_path / "archive.db"
    done = rebuild(db, "--warc", warc, processes=1)
    assert done.returncode == 0, done.stderr

    articles = {row["url"]: row for row in rows(db, "select * from articles")}
    assert {url: row["title"] for url, row in articles.items()} == {SITE + path: title for path, title in TITLES.items()}
    for row in articles.values():
        assert row["published"] == "2020-07-03" and "Минске" in row["text"] and row["warc_file"] == warc.name
    assert {(alias["url"], alias["article"]) for alias in rows(
        db, "select url_aliases.url, articles.url as article from url_aliases join articles on articles.id = "
            "article_id")} == {(SITE + "/old/1021/", SITE + "/news/first/"),
                               (SITE + "/news/second-copy/", SITE + "/news/second/")}
    image = rows(db, "select * from images")[0]
    assert (image["src"], image["sha256"], image["bytes"], image["content_type"]) == \
        (SITE + "/img/one.jpg", hashlib.sha256(JPEG).hexdigest(), len(JPEG), "image/jpeg")
    assert (tmp_path / image["path"]).read_bytes() == JPEG  # from the WARC record, not downloaded
    run = rows(db, "select * from crawl_runs")[0]
    assert (run["mode"], run["articles_new"], run["articles_unchanged"]) == ("rebuild", 2, 1)
    assert '"media": 2' in run["items_dropped"] and '"redirect": 1' in run["items_dropped"]
