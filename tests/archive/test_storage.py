import sqlite3

import pytest

from archiver.archive import explore
from archiver.extraction.normalize import content_hash
from archiver.archive.stemming import STEMMER_VERSION, article_stems
from archiver.archive.storage import Archive


def article(url="https://x.org/news/a/1/", title="Title", text="Body text", published="2020-07-03", **extra):
    row = {"url": url, "title": title, "text": text, "published": published, "language": "en",
           "section": "a", "section_url": "https://x.org/news/a/",
           "images": [{"src": "https://x.org/1.jpg", "alt": "one", "caption": "c"},
                      {"src": "https://x.org/2.jpg", "alt": "", "caption": None}],
           "content_hash": content_hash(title, published, text), "fetched_at": "2026-01-01T00:00:00+00:00"}
    row.update(extra)
    return row


def test_schema_wal_and_contract_columns(tmp_path):
    path = tmp_path / "sub" / "archive.db"
    Archive(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    columns = {row[1] for row in db.execute("PRAGMA table_info(articles)")}
    assert {"id", "url", "title", "published", "text", "language", "section", "section_url", "fetched_at",
            "content_hash"} <= columns
    columns = {row[1] for row in db.execute("PRAGMA table_info(images)")}
    assert {"id", "article_id", "src", "alt", "caption", "position"} <= columns
    foreign = db.execute("PRAGMA foreign_key_list(images)").fetchall()
    assert foreign[0][2] == "articles"


def test_saving_twice_adds_nothing(tmp_path):
    archive = Archive(tmp_path / "a.db")
    assert archive.save([article()]).new == 1
    counts = archive.save([article()])
    assert (counts.new, counts.unchanged) == (0, 1)
    assert archive.count() == 1 and archive.count("images") == 2


def test_same_content_under_another_url_is_an_alias(tmp_path):
    archive = Archive(tmp_path / "a.db")
    archive.save([article()])
    counts = archive.save([article(url="https://x.org/news/b/1/")])
    assert counts.aliased == 1 and archive.count() == 1
    assert archive.article_id_for("https://x.org/news/b/1/") == archive.article_id_for("https://x.org/news/a/1/")


def test_redirect_sources_become_aliases(tmp_path):
    archive = Archive(tmp_path / "a.db")
    archive.save([article(aliases=["https://x.org/old/1/"])])
    assert archive.article_id_for("https://x.org/old/1/") == 1
    assert archive.save([article(url="https://x.org/old/1/")]).unchanged == 1
    assert archive.count() == 1


def test_changed_text_updates_the_row_and_its_images(tmp_path):
    archive = Archive(tmp_path / "a.db")
    archive.save([article()])
    edited = article(text="Edited body", images=[{"src": "https://x.org/3.jpg", "alt": "three"}])
    assert archive.save([edited]).updated == 1
    db = archive.db
    assert db.execute("select text from articles").fetchone()[0] == "Edited body"
    assert [r[0] for r in db.execute("select src from images order by position")] == ["https://x.org/3.jpg"]


def test_search_stems_are_stored_with_the_article_they_were_made_from(tmp_path):
    archive = Archive(tmp_path / "a.db")
    stored = "select article_id, language, stems, content_hash, stemmer from article_search"
    archive.save([article(search_stems="titl\nbodi text")])
    assert archive.db.execute(stored).fetchall() == [
        (1, "en", "titl\nbodi text", content_hash("Title", "2020-07-03", "Body text"), STEMMER_VERSION)]
    archive.save([article(search_stems="ignored: unchanged")])  # unchanged: nothing rewritten
    assert archive.db.execute("select stems from article_search").fetchall() == [("titl\nbodi text",)]
    archive.save([article(text="Edited body", search_stems="titl\nedit bodi")])
    assert archive.db.execute(stored).fetchall() == [
        (1, "en", "titl\nedit bodi", content_hash("Title", "2020-07-03", "Edited body"), STEMMER_VERSION)]
    archive.save([article(url="https://x.org/news/a/2/", text="Other")])  # no stems: the refresh makes them
    assert archive.db.execute("select count(*) from article_search").fetchone()[0] == 1
    assert explore.refresh(archive.db, write_metadata=False)["stemmed"] == 1
    assert archive.db.execute("select stems from article_search where article_id = 2").fetchone()[0] == \
        article_stems("Title", "Other")


def test_article_without_date_is_kept_and_flagged(tmp_path):
    archive = Archive(tmp_path / "a.db")
    archive.save([article(published=None)])
    row = archive.db.execute("select published, date_missing from articles").fetchone()
    assert row == (None, 1)


def test_a_failing_batch_leaves_nothing_half_written(tmp_path):
    archive = Archive(tmp_path / "a.db")
    broken = article(url="https://x.org/news/a/2/", text="Other", content_hash="other", images=[{"alt": "no src"}])
    with pytest.raises(KeyError):
        archive.save([article(), broken])
    assert archive.count() == 0 and archive.count("images") == 0


def test_older_archive_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("create table articles (id integer primary key, url text, title text)")
    db.execute("insert into articles (url, title) values ('https://x.org/1/', 'old')")
    db.commit()
    db.close()
    archive = Archive(path)
    columns = {c.name for c in archive.db["articles"].columns}
    assert {"text", "published", "content_hash", "last_seen"} <= columns
    assert archive.count() == 1
