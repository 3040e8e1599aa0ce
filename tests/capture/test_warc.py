"""WARC capture, media and provenance, end to end: a real crawl of the replica, read back with warcio."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.cli import project_root
from archiver.capture.media import media_relpath, safe_extension
from archiver.replica import ReplicaSite, serve_replica
from archiver.capture.warc import http_response_headers, sha1_digest

from conftest import run_crawl


@pytest.fixture(scope="module")
def site_server():
    # Not 127.0.0.1: a WARC-writing proxy such as warcprox refuses it; these tests run on other loopback addresses.
    site = ReplicaSite(articles_per_language=34, seed=3)
    with serve_replica(site, port=0, hosts=("127.0.0.2", "127.0.0.3"), external_host="127.0.0.4",
                       slow_seconds=3.0, huge_page_bytes=6_000_000) as server:
        yield server


@pytest.fixture(scope="module")
def captured(site_server, tmp_path_factory):
    directory = tmp_path_factory.mktemp("warc-crawl")
    before = len(site_server.hits)
    result = run_crawl(site_server.seeds, directory / "archive.db")
    result.hits = list(site_server.hits[before:])
    result.dir = directory
    return result


def archiver_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archiver.cli", *args], cwd=project_root(), capture_output=True,
                          timeout=120)


def read_records(directory: Path) -> list[dict]:
    records = []
    for path in sorted((directory / "warc").glob("*.warc.gz")):
        with open(path, "rb") as stream:
            iterator = ArchiveIterator(stream, check_digests=True)
            for record in iterator:
                payload = record.raw_stream.read()
                headers = record.rec_headers
                records.append({
                    "file": path.name, "offset": iterator.get_record_offset(), "type": record.rec_type,
                    "version": record.rec_headers.protocol,
                    "url": headers.get_header("WARC-Target-URI"), "date": headers.get_header("WARC-Date"),
                    # A 304's revisit has no HTTP block (docs/replay.md, "304 Not Modified").
                    "status": int(record.http_headers.get_statuscode()) if record.http_headers is not None
                    and record.rec_type in ("response", "revisit") else None,
                    "payload": payload, "headers": headers, "http": record.http_headers,
                    "digest_ok": record.digest_checker.passed,
                })
    return records


@pytest.fixture(scope="module")
def records(captured):
    return read_records(captured.dir)


def test_crawl_with_capture_exits_cleanly(captured):
    assert captured.returncode == 0, captured.log[-3000:]
    assert "Traceback" not in captured.log


def test_every_exchange_is_in_the_warcs_with_correct_digests(site_server, captured, records):
    base = {f"{hit['host']}": f"http://{hit['host']}" for hit in captured.hits}
    responses = Counter((r["url"], r["status"]) for r in records if r["type"] in ("response", "revisit"))
    requests = Counter(r["url"] for r in records if r["type"] == "request")
    served = Counter((base[hit["host"]] + hit["path"], hit["status"]) for hit in captured.hits
                     if hit["method"] == "GET" and hit["status"] is not None
                     and not hit["path"].startswith("/news/huge"))
    # The page over DOWNLOAD_MAXSIZE is cancelled mid-body: there is no response to record.
    served = Counter({key: n for key, n in served.items() if "stenogram" not in key[0]})
    # (a set: the slow page's first answer comes after the client timed out, so it was never received)
    missing = set(served) - set(responses)
    assert not missing, f"exchanges not in the WARCs: {list(missing)[:5]}"
    for url, _ in served:
        assert requests[url] >= 1, url
    retried = [url for (url, status), count in responses.items() if status in (500, 503) and count > 1]
    assert retried, "each failed attempt of a retried page is recorded"
    statuses = {status for _, status in responses}
    assert {200, 301, 302, 404, 410, 500}.issubset(statuses), statuses
    urls = {url for url, _ in responses}
    assert any(url.endswith("/robots.txt") for url in urls)
    assert any(url.endswith(".jpg") for url in urls)
    assert any(url.endswith(".pdf") for url in urls)
    for record in records:
        assert record["version"] == "WARC/1.1"
        assert record["digest_ok"] is not False, (record["type"], record["url"])
        if record["type"] in ("response", "request", "revisit"):
            assert record["headers"].get_header("WARC-Block-Digest")
            assert record["headers"].get_header("WARC-Payload-Digest")
        if record["type"] == "response":
            assert record["headers"].get_header("WARC-Payload-Digest") == sha1_digest(record["payload"])
            assert record["headers"].get_header("WARC-IP-Address") in ("127.0.0.2", "127.0.0.3")


def test_bodies_are_kept_as_sent_compressed(records):
    gzipped = [r for r in records if r["type"] == "response" and r["http"].get_header("Content-Encoding") == "gzip"]
    assert gzipped, "the replica gzips HTML for clients that accept it"
    for record in gzipped[:20]:
        assert record["payload"][:2] == b"\x1f\x8b", record["url"]


def test_files_start_with_warcinfo(captured, records):
    first = {}
    for record in records:
        first.setdefault(record["file"], record)
    for name, record in first.items():
        assert record["type"] == "warcinfo", name
        info = record["payload"].decode()
        for field in ("software: archiver/", "robots: obey", "http-header-user-agent: archiver/", "seeds: http://",
                      "operator:"):
            assert field in info, field
        assert name.startswith("ARCHIVER-") and name.endswith(".warc.gz")


def test_articles_point_at_their_response_record(captured, records):
    by_place = {(r["file"], r["offset"]): r for r in records}
    rows = captured.rows("select id, url, warc_file, warc_offset from articles")
    assert rows and all(row["warc_file"] for row in rows)
    for row in rows:
        record = by_place[(row["warc_file"], row["warc_offset"])]
        assert record["type"] in ("response", "revisit") and record["status"] == 200, row["url"]


def test_captures_table_and_cdxj_list_every_record(captured, records):
    captures = captured.rows("select warc_file, offset, record_type, url from captures")
    assert {(r["warc_file"], r["offset"]) for r in captures} == {(r["file"], r["offset"]) for r in records}
    index = (captured.dir / "warc" / "index.cdxj").read_text().splitlines()
    assert index == sorted(index)
    listed = {(line.split('"filename": "')[1].split('"')[0], int(line.split('"offset": "')[1].split('"')[0]))
              for line in index}
    assert listed == {(r["file"], r["offset"]) for r in records if r["type"] in ("response", "revisit")}
    runs = captured.rows("select warc_bytes, media_bytes from crawl_runs")
    assert runs[0]["warc_bytes"] == sum(p.stat().st_size for p in (captured.dir / "warc").glob("*.warc.gz"))
    assert runs[0]["media_bytes"] > 0


def test_images_and_documents_stored_by_sha256(captured):
    images = captured.rows("select src, sha256, path, bytes, content_type, fetched_at from images")
    assert images and all(image["sha256"] for image in images)
    documents = captured.rows("select url, sha256, path, content_type from documents")
    assert documents and all(d["sha256"] and d["content_type"] == "application/pdf" for d in documents)
    assert any("%D0%97" in d["url"] for d in documents)  # a Cyrillic file name with spaces, percent-encoded
    for row in [*images, *documents]:
        path = captured.dir / row["path"]
        assert path.exists(), row["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"] == path.name.split(".")[0]
        assert row["path"].startswith("media/") and row["path"].count("/") == 3
    files = [p for p in (captured.dir / "media").rglob("*") if p.is_file()]
    assert len(files) == len({row["sha256"] for row in [*images, *documents]})  # one file per content


def test_media_fetched_once_per_url(captured):
    media = Counter((hit["host"], hit["path"]) for hit in captured.hits if hit["path"].lower().endswith((".jpg", ".png", ".pdf")))
    assert media and max(media.values()) == 1, media.most_common(3)


def test_verify_passes_and_show_prints_the_raw_capture(captured):
    done = archiver_cli("verify", "--db", str(captured.dir / "archive.db"))
    assert done.returncode == 0, done.stdout.decode()[-2000:]
    article = captured.rows("select id, url, title from articles where language = 'en' limit 1")[0]
    shown = archiver_cli("show", str(article["id"]), "--db", str(captured.dir / "archive.db"))
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout.decode("utf-8")
    assert "HTTP/1.1 200 OK" in text and "Content-Type: text/html" in text
    assert article["title"].split()[0] in text and "<html" in text
    raw = archiver_cli("show", article["url"], "--db", str(captured.dir / "archive.db"), "--raw")
    assert raw.returncode == 0 and raw.stdout.startswith(b"HTTP/1.1 200 OK\r\n")


def copy_archive(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock"))
    return target


def test_recrawl_writes_revisit_records(site_server, captured, tmp_path):
    directory = copy_archive(captured.dir, tmp_path / "again")
    before = {p.name for p in (directory / "warc").glob("*.warc.gz")}
    again = run_crawl(site_server.seeds, directory / "archive.db")
    assert again.returncode == 0, again.log[-3000:]
    new = [r for r in read_records(directory) if r["file"] not in before]
    revisits = [r for r in new if r["type"] == "revisit"]
    assert revisits, "a re-crawl stores unchanged payloads as revisits"
    old = {r["headers"].get_header("WARC-Record-ID"): r for r in read_records(captured.dir)}
    for revisit in revisits:
        headers = revisit["headers"]
        # A payload archived already, or a 304 (server-not-modified, referring to the earlier 200).
        assert headers.get_header("WARC-Profile").endswith(("/revisit/identical-payload-digest",
                                                            "/revisit/server-not-modified"))
        assert headers.get_header("WARC-Refers-To-Target-URI") and headers.get_header("WARC-Refers-To-Date")
        original = old.get(headers.get_header("WARC-Refers-To"))
        if original is not None:
            assert original["headers"].get_header("WARC-Payload-Digest") == headers.get_header("WARC-Payload-Digest")
    # Media are unchanged byte for byte: stored again as revisits only (the replica gzips pages with a
    # fresh gzip timestamp each time, so their raw payloads differ; see the README).
    stored_again = [(r["url"], r["status"]) for r in new if r["type"] == "response" and r["url"].endswith((".jpg", ".pdf"))]
    assert not stored_again, stored_again
    done = archiver_cli("verify", "--db", str(directory / "archive.db"))
    assert done.returncode == 0, done.stdout.decode()[-2000:]


def test_verify_names_a_corrupt_warc_record(captured, tmp_path):
    directory = copy_archive(captured.dir, tmp_path / "bad-warc")
    with sqlite3.connect(directory / "archive.db") as conn:
        url, name, offset, length = conn.execute(
            "select url, warc_file, offset, length from captures where record_type = 'response' and status = 200 "
            "and url like '%/news/%' and length > 1000 order by id limit 1 offset 5").fetchone()
    path = directory / "warc" / name
    data = bytearray(path.read_bytes())
    data[offset + length // 2] ^= 0x01
    path.write_bytes(bytes(data))
    done = archiver_cli("verify", "--db", str(directory / "archive.db"))
    out = done.stdout.decode()
    assert done.returncode != 0
    assert f"CORRUPT {name}@{offset} response {url}" in out, out[-2000:]


def test_verify_names_a_corrupt_media_file(captured, tmp_path):
    directory = copy_archive(captured.dir, tmp_path / "bad-media")
    with sqlite3.connect(directory / "archive.db") as conn:
        path = conn.execute("select path from documents limit 1").fetchone()[0]
    data = bytearray((directory / path).read_bytes())
    data[len(data) // 2] ^= 0x01
    (directory / path).write_bytes(bytes(data))
    done = archiver_cli("verify", "--db", str(directory / "archive.db"))
    out = done.stdout.decode()
    assert done.returncode != 0 and "CORRUPT media documents" in out and path in out, out[-2000:]


def test_capture_can_be_switched_off(site_server, tmp_path):
    result = run_crawl(site_server.seeds, tmp_path / "archive.db", ["WARC_ENABLED=0", "MEDIA_ENABLED=0"])
    assert result.returncode == 0, result.log[-2000:]
    assert not (tmp_path / "warc").exists() and not (tmp_path / "media").exists()
    assert result.rows("select count(*) from articles where warc_file is not null")[0][0] == 0
    assert result.rows("select count(*) from images where sha256 is not null")[0][0] == 0


# -- units -------------------------------------------------------------------------


@pytest.mark.parametrize("url, content_type, expected", [
    ("http://x/upload/Заявление СКБ ОДКБ.pdf", "application/pdf", "pdf"),
    ("http://x/upload/../../etc/passwd", None, "bin"),
    ("http://x/upload/photo%20one.JPG", None, "jpg"),
    ("http://x/upload/" + "a" * 300 + ".verylongextension", None, "bin"),
    ("http://x/upload/pic.php?id=1", "image/png; charset=binary", "png"),
    ("http://x/upload/file.ex/e", "application/octet-stream", "bin"),
])
def test_media_names_never_come_unsafely_from_urls(url, content_type, expected):
    extension = safe_extension(content_type, url)
    assert extension == expected
    sha = hashlib.sha256(url.encode()).hexdigest()
    assert media_relpath(sha, extension) == f"{sha[:2]}/{sha[2:4]}/{sha}.{expected}"
    with pytest.raises(ValueError):
        media_relpath("../" + sha[3:], "jpg")


def test_dechunked_bodies_do_not_claim_chunked_transfer_encoding():
    from scrapy.http import Response

    response = Response("http://example.org/", status=200, body=b"abc",
                        headers={"Transfer-Encoding": "chunked", "Content-Type": "text/plain"})
    headers = http_response_headers(response)
    assert headers.statusline == "200 OK"
    assert headers.get_header("Transfer-Encoding") is None
    assert headers.get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"


def test_compressed_payloads_are_stored_in_a_valid_gzip_member(records, captured):
    """A body that is compressed already (gzip-encoded pages, JPEG photos) is stored, not deflated again;
    the record's head is deflated; every reader still sees one ordinary gzip member per record."""
    import gzip

    from archiver.capture.warc import _gzip_member, already_compressed

    stored_types = set()
    for path in sorted((captured.dir / "warc").glob("*.warc.gz")):
        data = path.read_bytes()
        in_file = sorted((r for r in records if r["file"] == path.name), key=lambda r: r["offset"])
        ends = [r["offset"] for r in in_file[1:]] + [len(data)]
        for record, end in zip(in_file, ends):
            member = data[record["offset"]:end]
            assert gzip.decompress(member).startswith(b"WARC/1.1\r\n")  # one whole record, one member
            if record["type"] == "response" and record["payload"] and already_compressed(record["http"]):
                assert record["payload"] in member, ("stored as it came", record["url"])
                stored_types.add(record["http"].get_header("Content-Encoding")
                                 or record["http"].get_header("Content-Type").split(";")[0])
    assert {"gzip", "image/jpeg"} <= stored_types

    text = b"WARC/1.1\r\n" + b"WARC-Type: response\r\n" * 40 + b"\r\n" + bytes(range(256)) * 40 + b"\r\n\r\n"
    for tail in (0, 4, 10_244, len(text), len(text) + 5):
        member = _gzip_member(text, tail)
        assert gzip.decompress(member) == text
    assert len(_gzip_member(text, 10_244)) < len(text) - 700  # the repeated head is still deflated
