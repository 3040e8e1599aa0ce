"""The analysis layer (archiver.archive.explore) and a real Datasette server over a crawled archive of the replica."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from collections import defaultdict
from html import unescape
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import sqlite_utils
from markupsafe import escape

from archiver.archive import article_page, datasette_metadata, explore, schema
from archiver.crawl.items import exported_fields
from archiver.archive.stemming import STEMMER_VERSION, article_stems
from archiver.archive.storage import Archive
from datasette_helpers import copy_archive, link_stores, serve_datasette

CANNED = ("search", "articles_per_month", "latest_per_section", "most_images", "changed_since")


def _edit_one_article(path) -> int:
    """Store an edited version of an English article through the archive's own code (a version row)."""
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM articles WHERE language = 'en' AND published IS NOT NULL "
                           "ORDER BY id LIMIT 1").fetchone()
        images = [dict(image) for image in conn.execute(
            "SELECT src, alt, caption FROM images WHERE article_id = ? ORDER BY position", [row["id"]])]
    item = {key: row[key] for key in ("url", "title", "published", "language", "section", "section_url",
                                      "section_title", "description", "author", "extractor")}
    item.update(text=row["text"] + "\n\nCorrection: the meeting was moved.", images=images,
                fetched_at="2031-01-02T03:04:05+00:00")
    item["content_hash"] = hashlib.sha256(f"{item['title']}\n{item['published']}\n{item['text']}".encode()).hexdigest()
    archive = Archive(path)
    try:
        assert archive.save([item]).updated == 1
    finally:
        archive.close()
    return row["id"]


@pytest.fixture(scope="module")
def archive_dir(first_crawl, tmp_path_factory):
    assert first_crawl.returncode == 0, first_crawl.log[-3000:]
    directory = tmp_path_factory.mktemp("datasette")
    path = copy_archive(first_crawl.db_path, directory)
    link_stores(first_crawl.db_path, directory)
    edited = _edit_one_article(path)
    return SimpleNamespace(dir=directory, path=path, edited=edited, report=explore.refresh(path))


REPLAY = "http://replay.example/csto/"


@pytest.fixture(scope="module")
def datasette(archive_dir):
    with serve_datasette(archive_dir.dir, env={"ARCHIVER_REPLAY_URL": REPLAY}) as server:
        yield server


def test_every_crawl_refreshes_the_analysis_layer(first_crawl):
    counts = first_crawl.rows("SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM article_search), "
                              "(SELECT count(*) FROM translations)")[0]
    assert counts[0] == counts[1] > 100 and counts[2] > 0
    metadata = json.loads((first_crawl.db_path.parent / "metadata.json").read_text())
    assert "archive" in metadata["databases"]


def test_the_crawl_stores_each_articles_search_stems_as_it_goes(first_crawl):
    """Stems are made where pages are extracted (the workers) and stored with each article: the refresh at the
    crawl's end has none left to make, and they are what the refresh would have made."""
    assert re.search(r"Analysis layer refreshed in [\d.]+s: 0 articles stemmed", first_crawl.log)
    rows = first_crawl.rows("SELECT a.title, a.text, a.content_hash, a.language, s.stems, s.content_hash, "
                            "s.language, s.stemmer FROM articles a JOIN article_search s ON s.article_id = a.id")
    assert len(rows) == first_crawl.rows("SELECT count(*) FROM articles")[0][0] > 100
    for title, text, digest, language, stems, stems_digest, stems_language, stemmer in rows:
        assert (stems, stems_digest, stems_language, stemmer) == (article_stems(title, text), digest, language,
                                                                  STEMMER_VERSION)


def test_refresh_is_incremental(archive_dir):
    assert archive_dir.report["stemmed"] == 1  # only the edited article was stemmed again
    again = explore.refresh(archive_dir.path)
    assert again["stemmed"] == 0 and again["translations"] == archive_dir.report["translations"]


def test_translations_are_rewritten_only_where_they_changed(archive_dir, tmp_path):
    path = copy_archive(archive_dir.path, tmp_path)
    with sqlite3.connect(path) as conn:
        links = set(conn.execute("SELECT * FROM translations"))
        explore.update_translations(sqlite_utils.Database(conn))
        assert conn.total_changes == 0  # an unchanged archive: nothing deleted, nothing inserted
        removed = conn.execute("DELETE FROM translations WHERE article_id % 3 = 0").rowcount
        altered = conn.execute("UPDATE translations SET method = 'stale' WHERE article_id % 3 = 1").rowcount
        conn.execute("INSERT INTO translations VALUES (1, 1, 'xx', 'wrong')")
        before = conn.total_changes
        total = explore.update_translations(sqlite_utils.Database(conn))
        changed = conn.total_changes - before
        assert set(conn.execute("SELECT * FROM translations")) == links and total == len(links) > 0
        assert removed and altered
        # The damaged rows only: the removed ones inserted again, the wrong one deleted, each altered one
        # deleted and inserted again; a rewrite of every link would change far more.
        assert changed == removed + 1 + 2 * altered


def test_fts_stays_in_sync_through_triggers(archive_dir, tmp_path):
    path = copy_archive(archive_dir.path, tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE articles SET title = 'Zanzibarian summit' WHERE id = 1")
        conn.execute("UPDATE articles SET last_seen = 'now' WHERE id = 2")  # no re-index
        hits = conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'zanzibarian'").fetchall()
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
    assert hits == [(1,)]


def test_every_schema_column_is_described():
    for name in dir(schema):
        columns = getattr(schema, name)
        if name.isupper() and isinstance(columns, dict):
            described = datasette_metadata.column_descriptions(name.lower())
            assert not [c for c in columns if c not in described], name


def test_database_title_description_and_column_descriptions(datasette):
    metadata = datasette.json("/-/metadata.json")
    database = metadata["databases"]["archive"]
    assert database["title"] and "Licence" in database["description"] and "crawled" in database["description"]
    assert database["tables"]["articles"]["columns"]["published"]
    page = datasette.json("/archive/articles.json", _size=1)
    assert page["human_description_en"] == "sorted by published descending"


def test_search_finds_english_and_russian_words_in_other_inflected_forms(datasette, archive_dir):
    with sqlite3.connect(archive_dir.path) as conn:
        english = conn.execute("SELECT id, text FROM articles WHERE language = 'en' AND text LIKE '%exercise %' "
                               "AND text NOT LIKE '%exercises%' LIMIT 1").fetchone()
        russian = conn.execute("SELECT id, text FROM articles WHERE language = 'ru' AND text LIKE '%терроризму%' "
                               "AND text NOT LIKE '%терроризма%' LIMIT 1").fetchone()
    assert english and russian
    for (article_id, _), query, language in ((english, "exercises", "en"), (russian, "терроризма", "ru")):
        started = time.perf_counter()
        rows = datasette.json("/archive/search.json", q=query, language="", _shape="objects")["rows"]
        took = time.perf_counter() - started
        found = {row["article"]: row for row in rows}
        assert article_id in found, query
        assert {row["language"] for row in rows} == {language}
        assert "<mark>" in found[article_id]["snippet"], found[article_id]
        assert took < 2
    only_ru = datasette.json("/archive/search.json", q="терроризма", language="ru", _shape="array")
    assert only_ru and {row["language"] for row in only_ru} == {"ru"}
    # The articles page's own search box: exact forms, case-folded Cyrillic.
    page = datasette.json("/archive/articles.json", _search="ТЕРРОРИЗМУ", _size=200)
    assert russian[0] in [row[0] for row in page["rows"]]


def test_facets_are_offered(datasette):
    page = datasette.json("/archive/articles.json", _size=0)
    facets = page["facet_results"]
    assert {"section", "language", "published_year"} <= set(facets)
    assert {row["value"] for row in facets["language"]["results"]} == {"en", "ru"}
    assert all(isinstance(row["value"], int) for row in facets["published_year"]["results"])
    assert page["suggested_facets"] == []  # off (settings.json): they cost seconds on a large archive


def test_every_canned_query_runs_and_returns_rows(datasette, archive_dir):
    queries = datasette.json("/archive.json")["queries"]
    assert {query["name"] for query in queries} >= set(CANNED)
    params = {"search": {"q": "meeting", "language": ""}, "changed_since": {"since": "2030-01-01"}}
    for name in CANNED:
        rows = datasette.json(f"/archive/{name}.json", _shape="array", **params.get(name, {}))
        assert rows, name
    changed = datasette.json("/archive/changed_since.json", since="2030-01-01", _shape="array")
    assert [row["article"] for row in changed] == [archive_dir.edited]


def test_article_page_and_images_table_render(datasette, archive_dir):
    status, body = datasette.get("/archive/articles/1")
    assert status == 200 and b"translations" in body
    status, body = datasette.get("/archive/images")
    assert status == 200
    images = datasette.json("/archive/images.json", _labels="on", _size=5, _shape="objects")["rows"]
    with sqlite3.connect(archive_dir.path) as conn:
        titles = dict(conn.execute("SELECT id, title FROM articles"))
    assert all(row["article_id"]["label"] == titles[row["article_id"]["value"]] for row in images)


def test_translations_link_english_and_russian_versions(datasette, replica, archive_dir):
    rows = datasette.json("/archive/translations.json", _labels="on", _size="max", _shape="objects")["rows"]
    with sqlite3.connect(archive_dir.path) as conn:
        articles = {id_: (url, language) for id_, url, language in conn.execute("SELECT id, url, language FROM articles")}
    links = {(row["article_id"]["value"], row["translation_id"]["value"]) for row in rows}
    by_path = defaultdict(dict)
    for truth in replica.site.ground_truth(replica.base_urls):
        by_path[urlsplit(truth["url"]).path][truth["language"]] = truth["url"]
    ids = {url: id_ for id_, (url, _) in articles.items()}
    expected = {(ids[pair["en"]], ids[pair["ru"]]) for pair in by_path.values() if len(pair) == 2}
    assert len(expected) >= 50
    assert links == expected | {(b, a) for a, b in expected}
    assert all(articles[a][1] != articles[b][1] for a, b in links)  # never two of one language
    assert all(row["method"] == "same path" and row["translation_id"]["label"] for row in rows)
    assert len(articles) == len(ids)  # linked, never merged


def test_translation_by_date_and_images(tmp_path):
    archive = Archive(tmp_path / "archive.db")
    common = {"published": "2024-05-01", "section": "news", "extractor": "generic"}
    archive.save([
        {**common, "url": "https://en.example.org/news/meeting-in-minsk/", "language": "en", "title": "Meeting",
         "text": "A meeting.", "content_hash": "a",
         "images": [{"src": "https://en.example.org/upload/IMG%20%D0%97%D0%B0%D1%81.jpg"}]},
        {**common, "url": "https://ru.example.org/novosti/vstrecha-v-minske/", "language": "ru", "title": "Встреча",
         "text": "Встреча.", "content_hash": "b", "images": [{"src": "https://ru.example.org/i/IMG Зас.jpg"}]},
        {**common, "url": "https://ru.example.org/novosti/drugoe/", "language": "ru", "title": "Другое",
         "text": "Другое.", "content_hash": "c", "images": [{"src": "https://ru.example.org/i/other.jpg"}]},
    ])
    explore.refresh(archive.db, tmp_path / "archive.db")
    links = archive.db.execute("SELECT article_id, translation_id, language, method FROM translations "
                               "ORDER BY 1").fetchall()
    archive.close()
    assert links == [(1, 2, "ru", "same date and images"), (2, 1, "en", "same date and images")]


def test_export_jsonl_alongside_the_database(replica, crawl, tmp_path):
    items = tmp_path / "items.jsonl"
    result = crawl(replica.seeds, tmp_path / "archive.db", args=["-O", str(items)])
    assert result.returncode == 0, result.log[-3000:]
    lines = [json.loads(line) for line in items.read_text(encoding="utf-8").splitlines()]
    urls = {url for (url,) in result.rows("SELECT url FROM articles")}
    exported = [line["url"] for line in lines]
    # One line for every archived article, under its canonical URL, even for an article the crawl fetched
    # twice in one run (directly, and through a redirect chain).
    assert sorted(exported) == sorted(urls) and len(urls) > 100
    assert all(line["title"] and line["text"] for line in lines)
    # Every field of an article, not the archive's search stems.
    assert all(list(line) == exported_fields() for line in lines) and "search_stems" not in exported_fields()


# -- pages for people: the articles list, an article's page, the database page, charts ------------


def _article_rows(path, sql, *params):
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def test_articles_table_is_a_list_to_read(datasette, archive_dir):
    status, body = datasette.get("/archive/articles")
    html = body.decode()
    assert status == 200
    headers = re.findall(r'<th [^>]*data-column="([^"]+)"', html)
    assert headers[:5] == ["published", "section", "language", "title", "text"] and len(headers) < 10
    newest = _article_rows(archive_dir.path, "SELECT id, title, text FROM articles ORDER BY published DESC, id "
                                             "LIMIT 1")[0]
    assert f'<a href="/archive/articles/{newest["id"]}">' in html  # the headline links the article's page
    texts = re.findall(r'<td class="col-text[^"]*">(.*?)</td>', html, re.S)
    assert texts and all(len(text) <= 170 for text in texts) and len(newest["text"]) > 170
    # Full column descriptions on hover, the short ones listed; Datasette's long list hidden.
    assert f'title="{escape(schema.plain(schema.table("articles").column("published").description))}"' in html
    assert "show all columns" in html
    every = re.search(r'href="(/archive/articles\?[^"]*_col=warc_file[^"]*)"', html).group(1).replace("&amp;", "&")
    status, body = datasette.get(every)
    assert status == 200 and 'data-column="warc_file"' in body.decode()


def test_article_page(datasette, archive_dir):
    edited = _article_rows(archive_dir.path, "SELECT * FROM articles WHERE id = ?", archive_dir.edited)[0]
    translation = _article_rows(archive_dir.path, "SELECT translation_id FROM translations WHERE article_id = ?",
                                edited["id"])[0][0]
    status, body = datasette.get(f"/archive/articles/{edited['id']}")
    html = body.decode()
    assert status == 200
    assert f"<title>{escape(edited['title'])}</title>" in html and f"<h1>{escape(edited['title'])}</h1>" in html
    for paragraph in article_page.paragraphs(edited["text"]):
        assert f"<p>{escape(paragraph)}</p>" in html
    assert f'href="/archive/articles/{translation}"' in html
    # Its earlier version, and what the edit added.
    assert "Earlier versions (1)" in html and "<ins>Correction: the meeting was moved.</ins>" in html
    # An article's capture: the command, the raw record, the replay.
    captured = _article_rows(archive_dir.path, "SELECT a.id, c.url, c.warc_date FROM articles a JOIN captures c "
                                               "ON c.warc_file = a.warc_file AND c.offset = a.warc_offset "
                                               "ORDER BY a.id LIMIT 1")[0]
    html = datasette.get(f"/archive/articles/{captured['id']}")[1].decode()
    assert f"archiver show {captured['id']} --db {archive_dir.dir.name}/archive.db" in html  # as Datasette opened it
    timestamp = re.sub(r"\D", "", captured["warc_date"])[:14]
    assert f'href="{REPLAY}{timestamp}/{escape(captured["url"])}"' in html
    assert f'href="/-/archiver/capture/archive/{captured["id"]}"' in html
    status, raw = datasette.get(f"/-/archiver/capture/archive/{captured['id']}")
    assert status == 200 and raw.startswith(f"# article {captured['id']}: ".encode()) and b"HTTP/1.1 200" in raw


def test_article_images_come_from_the_media_store(datasette, archive_dir):
    image = _article_rows(archive_dir.path, "SELECT * FROM images WHERE sha256 IS NOT NULL ORDER BY id LIMIT 1")[0]
    status, body = datasette.get(f"/archive/articles/{image['article_id']}")
    assert f'<img src="/-/archiver/media/archive/images/{image["id"]}"'.encode() in body
    status, data = datasette.get(f"/-/archiver/media/archive/images/{image['id']}")
    assert status == 200 and hashlib.sha256(data).hexdigest() == image["sha256"]
    missing = _article_rows(archive_dir.path, "SELECT id FROM images WHERE sha256 IS NULL LIMIT 1")
    if missing:
        assert datasette.get(f"/-/archiver/media/archive/images/{missing[0]['id']}")[0] == 404
    assert datasette.get("/-/archiver/media/archive/images/999999")[0] == 404


def test_database_page_example_query_returns_rows_and_links_its_source(datasette):
    status, body = datasette.get("/archive")
    html = body.decode()
    sql = re.search(r'<textarea id="sql-editor" name="sql">(.*?)</textarea>', html, re.S).group(1)
    assert datasette.json("/archive.json", sql=unescape(sql), _shape="array")
    source = datasette.json("/-/metadata.json")["databases"]["archive"]
    assert source["source"] == source["source_url"]  # the link's text is the address it opens
    assert re.search(r'Data source:\s*<a href="([^"]+)">\s*\1</a>', html)
    assert 'href="/-/dashboards/archive"' in html


def test_charts_dashboard(datasette, archive_dir):
    dashboards = datasette.json("/-/metadata.json")["plugins"]["datasette-dashboards"]
    charts = dashboards["archive"]["charts"]
    months = datasette.json("/archive.json", sql=charts["months"]["query"].replace("[[ and language = :language ]]",
                                                                                    ""), _shape="array")
    expected = {row[0] for row in _article_rows(archive_dir.path, "SELECT DISTINCT substr(published, 1, 7) "
                                                                  "FROM articles WHERE published IS NOT NULL")}
    assert {row["month"][:7] for row in months} == expected
    status, body = datasette.get("/-/dashboards/archive")
    assert status == 200 and b"vega-lite.min.js" in body and b"cdn." not in body  # the plugin's own copy


def test_an_archive_with_no_article_is_hidden_until_it_has_one(archive_dir, tmp_path):
    copy_archive(archive_dir.path, tmp_path)
    empty = tmp_path / "empty.db"
    Archive(empty).close()  # what a first crawl that fetched nothing leaves
    explore.refresh(empty)
    with serve_datasette(tmp_path) as server:
        listed = server.json("/.json")
        assert "archive" in listed and "empty" not in listed
        assert server.get("/empty")[0] == 403
        with sqlite3.connect(empty) as conn:
            conn.execute("INSERT INTO articles (url, title) VALUES ('https://example.org/a', 'A')")
        assert "empty" in server.json("/.json")


def test_a_replaced_database_is_read_anew(archive_dir, tmp_path):
    """``archiver demo`` deletes the demo archive and writes a new one: the running Datasette shows the new one."""
    path = copy_archive(archive_dir.path, tmp_path, "demo.db")
    with serve_datasette(tmp_path) as server:
        count = "select count(*) as n from articles"
        before = server.json("/demo.json", sql=count, _shape="array")[0]["n"]
        path.unlink()
        new = copy_archive(archive_dir.path, tmp_path / "new", "demo.db")
        conn = sqlite3.connect(new)
        with conn:
            conn.execute("DELETE FROM articles WHERE id > 5")
        conn.close()  # the last connection: its WAL is written into the file, which is then complete
        new.rename(path)
        for _ in range(4):  # each of Datasette's SQL threads
            assert server.json("/demo.json", sql=count, _shape="array")[0]["n"] == 5 < before


def test_article_page_without_replay_or_capture(archive_dir):
    links = article_page.Links(article=lambda id_: f"/a/{id_}", media=lambda table, id_: f"/m/{table}/{id_}")
    with sqlite3.connect(archive_dir.path) as conn:
        captured = conn.execute("SELECT min(id) FROM articles WHERE warc_file IS NOT NULL").fetchone()[0]
        page = article_page.article(conn, captured, "data/archive.db", links)
        assert page["capture"]["replay"] is None
        assert page["capture"]["command"] == f"archiver show {captured} --db data/archive.db"
        assert article_page.article(conn, archive_dir.edited, None, links)["capture"] is None  # edited, no WARC
        assert article_page.article(conn, 10**9, None, links) is None


def test_diff_shows_changed_words_and_counts_unchanged_paragraphs():
    old = "\n\n".join(["One.", "Two.", "Three.", "Four.", "The meeting was on Monday."])
    new = "\n\n".join(["One.", "Two.", "Three.", "Four.", "The meeting was on Tuesday.", "Added."])
    html = str(article_page.diff_html(old, new))
    assert "(3 unchanged paragraphs)" in html and "<p class=\"same\">Four.</p>" in html
    assert "<del>Monday.</del><ins>Tuesday.</ins>" in html and "<ins>Added.</ins>" in html
    assert "<script>" not in str(article_page.diff_html("a", "<script>"))
