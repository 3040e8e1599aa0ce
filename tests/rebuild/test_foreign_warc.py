"""WARC files written by another tool (warcio here, as Heritrix or wget would write them): WARC/1.0, gzipped per
record or not, with a redirect, an image, a stylesheet, a body sent gzip-encoded and two revisits, rebuild into
the expected articles, aliases and media."""

from __future__ import annotations

import gzip
import hashlib
import json
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
        headers = second.rec_headers  # fetched again, answered 304 Not Modified: no HTTP block, no page
        not_modified = writer.create_revisit_record(SITE + "/news/second/", headers.get_header("WARC-Payload-Digest"),
                                                    SITE + "/news/second/", headers.get_header("WARC-Date"))
        not_modified.rec_headers.replace_header("WARC-Profile",
                                                "http://netpreserve.org/warc/1.1/revisit/server-not-modified")
        writer.write_record(not_modified)


@pytest.mark.parametrize("gzipped", [True, False], ids=["gzip per record", "uncompressed"])
def test_a_foreign_warc_rebuilds_into_the_expected_articles(tmp_path, gzipped):
    warc = tmp_path / ("crawl.warc.gz" if gzipped else "crawl.warc")
    write_warc(warc, gzipped)
    db = tmp_path / "archive.db"
    done = rebuild(db, "--warc", warc, processes=1)
    assert done.returncode == 0, done.stderr

    articles = {row["url"]: row for row in rows(db, "select * from articles")}
    assert {url: row["title"] for url, row in articles.items()} == \
        {SITE + path: title for path, title in TITLES.items()}
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
    skipped = json.loads(run["items_dropped"])
    assert (skipped["media"], skipped["redirect"], skipped["not_modified"]) == (2, 1, 1)


def test_a_request_names_its_referer_before_or_after_its_response(tmp_path):
    """wget writes a request, then its response (WARC-Concurrent-To: the request); a crawl of this project writes
    the response first, then its request (WARC-Concurrent-To: the response). Either way the page's referer is
    known (it chooses the listing entry an article keeps)."""
    from archiver.rebuild.inventory import Inventory, read_inventory
    from archiver.rebuild.records import read_records

    warc = tmp_path / "order.warc.gz"
    with warc.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        html = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")

        def request(url, referer, concurrent_to=None):
            record = writer.create_warc_record(url, "request", payload=BytesIO(b""), length=0, http_headers=
                                               StatusAndHeaders(f"GET {url} HTTP/1.1", [("Referer", referer)],
                                                                is_http_request=True),
                                               warc_headers_dict={"WARC-Concurrent-To": concurrent_to}
                                               if concurrent_to else None)
            writer.write_record(record)
            return record.rec_headers.get_header("WARC-Record-ID")

        def response(url, concurrent_to=None):
            record = writer.create_warc_record(url, "response", payload=BytesIO(b"<html></html>"), length=13,
                                               http_headers=html, warc_headers_dict={"WARC-Concurrent-To":
                                                                                     concurrent_to}
                                               if concurrent_to else None)
            writer.write_record(record)
            return record.rec_headers.get_header("WARC-Record-ID")

        wget_response = response(SITE + "/a/", concurrent_to=request(SITE + "/a/", SITE + "/news/"))
        ours = response(SITE + "/b/")
        request(SITE + "/b/", SITE + "/news/?PAGEN_1=2", concurrent_to=ours)
    inventory = Inventory()
    for _ in read_inventory([warc], inventory):
        pass
    referers = {capture.record_id: inventory.referer(capture) for capture in read_records(warc)
                if capture.record_type == "response"}
    assert referers == {wget_response: SITE + "/news/", ours: SITE + "/news/?PAGEN_1=2"}
