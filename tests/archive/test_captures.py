"""The archive's reads and writes for WARC captures and downloaded media files, on real SQLite."""

import sqlite3

import pytest

from archiver.archive.readonly import ReadOnlyArchive
from archiver.archive.storage import Archive


def capture(record_type="response", offset=0, digest="sha1:AAAA", run_id=1, **extra) -> dict:
    row = {"url": "https://x.org/a/", "warc_date": "2026-01-01T00:00:00.000000Z", "record_type": record_type,
           "status": 200, "content_type": "text/html", "payload_digest": digest, "block_digest": "sha1:BBBB",
           "warc_file": "A-00000.warc.gz", "offset": offset, "length": 10, "record_id": f"<urn:uuid:{offset}>",
           "refers_to": None, "run_id": run_id}
    row.update(extra)
    return row


@pytest.fixture
def archive(tmp_path):
    archive = Archive(tmp_path / "a.db")
    yield archive
    archive.close()


def test_captures_are_added_and_counted_per_run(archive):
    archive.add_captures([capture(offset=0), capture("request", offset=10, digest=None)])
    archive.add_captures([capture(offset=20, run_id=2)])
    archive.add_captures([])
    assert (archive.count_captures(1), archive.count_captures(2), archive.count_captures(3)) == (2, 1, 0)


def test_a_revisit_names_the_first_response_with_its_payload(archive):
    archive.add_captures([capture("revisit", offset=0, url="https://x.org/r/"),
                          capture(offset=10, url="https://x.org/first/"),
                          capture(offset=20, url="https://x.org/second/")])
    assert archive.revisit_original("sha1:AAAA") == {
        "url": "https://x.org/first/", "warc_date": "2026-01-01T00:00:00.000000Z", "record_id": "<urn:uuid:10>"}
    assert archive.revisit_original("sha1:ZZZZ") is None


def test_downloaded_files_newest_image_then_document(archive):
    url = "https://x.org/file.pdf"
    media = {"bytes": 3, "content_type": "application/pdf", "fetched_at": "2026-01-01T00:00:00+00:00"}
    archive.save([{"url": "https://x.org/news/1/", "title": "T", "text": "B", "content_hash": "h1",
                   "images": [{"src": url, "sha256": "old", "path": "media/old.pdf", **media},
                              {"src": url, "sha256": "new", "path": "media/new.pdf", **media},
                              {"src": url}],
                   "documents": [{"url": url, "sha256": "doc", "path": "/abs/doc.pdf", **media}]}])
    found = archive.downloaded_files(url)
    assert next(found) == {"sha256": "new", "path": "media/new.pdf", **media}
    assert next(found)["sha256"] == "doc"
    assert list(found) == []
    assert list(archive.downloaded_files("https://x.org/other")) == []


def test_read_only_archive_reads_captures_as_verify_and_show_do(archive):
    archive.add_captures([capture(offset=20), capture("request", offset=10, digest=None),
                          capture("revisit", offset=0, refers_to="<urn:uuid:20>"),
                          capture("revisit", offset=30, refers_to="<urn:uuid:gone>")])
    reader = ReadOnlyArchive(archive.path)
    try:
        assert [row["offset"] for row in reader.captures_in_file_order()] == [0, 10, 20, 30]
        assert reader.captured_responses() == {("A-00000.warc.gz", 0), ("A-00000.warc.gz", 20),
                                               ("A-00000.warc.gz", 30)}
        revisit = reader.capture_at("A-00000.warc.gz", 0)
        assert revisit["record_type"] == "revisit"
        assert reader.revisited_response(revisit)["offset"] == 20
        # The record it refers to is not listed: the first response with its payload stands for it.
        assert reader.revisited_response(reader.capture_at("A-00000.warc.gz", 30))["offset"] == 20
        assert reader.capture_at("A-00000.warc.gz", 5) is None
    finally:
        reader.close()


def test_read_only_archive_reads_articles_and_media(archive):
    archive.save([{"url": "https://x.org/news/1/", "title": "T", "text": "B", "content_hash": "h1", "language": "en",
                   "warc_file": "A-00000.warc.gz", "warc_offset": 20, "aliases": ["https://x.org/old/1/"],
                   "images": [{"src": "https://x.org/1.jpg", "sha256": "abc", "path": "media/abc.jpg", "bytes": 3},
                              {"src": "https://x.org/2.jpg"}]},
                  {"url": "https://x.org/news/2/", "title": "U", "text": "C", "content_hash": "h2", "language": "ru"}])
    reader = ReadOnlyArchive(archive.path)
    try:
        assert {"articles", "captures", "images", "documents"} <= reader.tables()
        assert {"warc_file", "warc_offset"} <= reader.columns("articles")
        assert reader.count_articles() == 2
        assert dict(reader.articles_by_language()) == {"en": 1, "ru": 1}
        assert reader.article_by_id(1)["url"] == "https://x.org/news/1/"
        assert reader.article_by_id(3) is None
        assert reader.article_by_url("https://x.org/news/2/")["id"] == 2
        assert reader.article_by_url("https://x.org/old/1/")["id"] == 1  # an alias
        assert reader.article_by_url("https://x.org/news/3/") is None
        assert [tuple(row) for row in reader.capture_positions("articles")] == [(1, "A-00000.warc.gz", 20)]
        assert [tuple(row) for row in reader.media_files("images", "src")] == [
            (1, "https://x.org/1.jpg", "abc", "media/abc.jpg", 3)]
    finally:
        reader.close()


def test_read_only_archive_neither_creates_nor_writes(tmp_path, archive):
    missing = tmp_path / "missing.db"
    with pytest.raises(sqlite3.OperationalError):
        ReadOnlyArchive(missing)
    assert not missing.exists()
    reader = ReadOnlyArchive(archive.path)
    try:
        with pytest.raises(sqlite3.OperationalError):
            reader.conn.execute("DELETE FROM articles")
    finally:
        reader.close()
