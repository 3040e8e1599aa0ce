"""Each column is declared once (archiver.archive.schema); everything else that names columns agrees with it.

A field added in one place only fails here: a column not in docs/schema.md, the README or Datasette's metadata;
an item field that is neither a column nor mapped; an extracted field the item drops without saying so.
"""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest
import sqlite_utils

from archiver.archive import datasette_metadata, explore, schema, schema_doc
from archiver.archive.storage import MEDIA_COLUMNS, Archive
from archiver.crawl import items
from archiver.crawl.items import ArticleItem
from archiver.extraction import extract
from archiver.extraction.images import Image

# The columns of ``articles`` the archive fills itself (archiver.archive.storage), from no item field.
ARCHIVE_MADE = {"id", "date_missing", "image_count", "first_seen", "last_seen", "run_id", "status"}
SQL_TYPES = {int: "INTEGER", str: "TEXT"}


def _refreshed(db: sqlite_utils.Database) -> sqlite_utils.Database:
    """An empty archive as a crawl and its analysis layer leave it."""
    schema.ensure_schema(db)
    explore.ensure(db)
    return db


def _names(cls) -> list[str]:
    return [field.name for field in dataclasses.fields(cls)]


# -- docs/schema.md and the README are the generator's output --------------------------------------


def test_docs_schema_md_is_generated_from_the_schema():
    assert schema_doc.DOC.read_text(encoding="utf-8") == schema_doc.schema_markdown(), \
        "docs/schema.md is out of date: run python -m archiver.archive.schema_doc"


def test_readme_table_of_tables_is_generated_from_the_schema():
    readme = schema_doc.README.read_text(encoding="utf-8")
    expected = schema_doc.readme_with_block(readme)
    if expected is None:
        pytest.skip(f"README.md has no {schema_doc.BEGIN} ... {schema_doc.END} markers")
    assert readme == expected, "README.md's table of tables is out of date: run python -m archiver.archive.schema_doc"


def test_the_docs_name_every_table_and_column_with_its_type():
    doc = schema_doc.schema_markdown()
    for table in schema.TABLES:
        assert f"## `{table.name}`" in doc and table.description in doc
        for column in table.columns:
            assert f"| `{column.name}` | {SQL_TYPES[column.type]}" in doc, (table.name, column.name)
    assert set(schema_doc.NOTES) <= {table.name for table in schema.TABLES}


def test_a_column_added_to_the_declaration_changes_every_generated_text(monkeypatch):
    before = schema_doc.schema_markdown(), datasette_metadata.column_descriptions("pages")
    pages = schema.table("pages")
    extra = schema.Column("robots", str, "What robots.txt said")
    monkeypatch.setitem(schema._by_name, "pages", dataclasses.replace(pages, columns=(*pages.columns, extra)))
    monkeypatch.setattr(schema, "TABLES", tuple(schema.table(table.name) for table in schema.TABLES))
    doc = schema_doc.schema_markdown()
    assert doc != before[0] and "| `robots` | TEXT | What robots.txt said |" in doc
    assert datasette_metadata.column_descriptions("pages") == {**before[1], "robots": "What robots.txt said"}
    db = sqlite_utils.Database(memory=True)
    schema.ensure_schema(db)
    assert "robots" in {column.name for column in db["pages"].columns}


# -- the archive and Datasette's metadata --------------------------------------------------------------


def test_every_table_and_column_of_an_archive_is_declared_with_its_type_and_keys():
    db = _refreshed(sqlite_utils.Database(memory=True))
    tables = {name for name in db.table_names() if "_fts" not in name}
    assert tables == {table.name for table in schema.TABLES}
    for table in schema.TABLES:
        found = [(row[1], row[2]) for row in db.execute(f"PRAGMA table_xinfo([{table.name}])")]
        assert found == [(column.name, SQL_TYPES[column.type]) for column in table.columns], table.name
        pk = [table.pk] if isinstance(table.pk, str) else list(table.pk)
        assert db[table.name].pks == pk, table.name
        keys = {(key.column, key.other_table, key.other_column) for key in db[table.name].foreign_keys}
        assert keys == set(table.foreign_keys), table.name


def test_an_older_archive_gets_the_missing_columns_and_keeps_its_rows():
    db = sqlite_utils.Database(memory=True)
    db["articles"].create({"id": int, "url": str, "title": str}, pk="id", not_null={"url"})
    db["articles"].insert({"url": "https://x.org/a/", "title": "Kept"})
    _refreshed(db)
    found = {row[1] for row in db.execute("PRAGMA table_xinfo(articles)")}
    assert found == {column.name for column in schema.table("articles").columns}
    assert db.execute("SELECT url, title FROM articles").fetchall() == [("https://x.org/a/", "Kept")]
    assert db.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION


def test_datasette_descriptions_come_from_the_schema_for_every_column():
    db = _refreshed(sqlite_utils.Database(memory=True))
    tables = datasette_metadata.metadata(db, "archive")["databases"]["archive"]["tables"]
    assert set(tables) == {table.name for table in schema.TABLES}
    for table in schema.TABLES:
        assert tables[table.name]["description"] == schema.plain(table.description)
        expected = {column.name: schema.plain(column.short or column.description) for column in table.columns}
        assert tables[table.name]["columns"] == expected == datasette_metadata.column_descriptions(table.name)
        assert all(expected.values()) and "`" not in "".join(expected.values())


def test_crawl_run_modes_are_described_alike_everywhere():
    mode = schema.table("crawl_runs").column("mode")
    for text in (mode.description, mode.label, datasette_metadata.column_descriptions("crawl_runs")["mode"]):
        assert all(word in text for word in ("first", "incremental", "complete", "full")), text


def test_descriptions_are_one_line_and_columns_unique():
    for table in schema.TABLES:
        assert table.description and "\n" not in table.description
        names = [column.name for column in table.columns]
        assert len(names) == len(set(names)), table.name
        for column in table.columns:
            assert column.description and "\n" not in column.description + column.short, (table.name, column.name)


# -- extraction -> item -> archive ---------------------------------------------------------------------


def test_every_item_field_is_an_articles_column_or_mapped():
    columns = set(schema.ARTICLES)
    fields = set(_names(ArticleItem))
    assert set(items.NOT_ARTICLE_COLUMNS) <= fields, "NOT_ARTICLE_COLUMNS names a field the item lacks"
    assert fields - set(items.NOT_ARTICLE_COLUMNS) - columns == set(), \
        "item fields that are neither articles columns nor in items.NOT_ARTICLE_COLUMNS"


def test_every_articles_column_comes_from_the_item_or_the_archive():
    # The item's status is the HTTP status (mapped), not the column of the same name.
    from_item = set(_names(ArticleItem)) - set(items.NOT_ARTICLE_COLUMNS)
    assert set(schema.ARTICLES) - from_item == ARCHIVE_MADE


def test_every_extracted_field_is_carried_by_the_item_or_listed_as_not_stored():
    fields = set(_names(extract.Article))
    assert set(items.NOT_CARRIED) <= fields, "NOT_CARRIED names a field Article lacks"
    assert fields - set(items.NOT_CARRIED) - set(_names(ArticleItem)) == set(), \
        "extracted fields the item neither carries nor lists in items.NOT_CARRIED"
    assert not set(items.NOT_CARRIED) & set(_names(ArticleItem))


def test_the_item_carries_each_extracted_value():
    values = {name: f"value of {name}" for name in _names(extract.Article)}
    values.update(images=[Image(src="https://x.org/1.jpg", alt="one", caption="c", position=0)], is_article=True)
    article = extract.Article(**values)
    item = ArticleItem.from_article(article, fetched_at="2026-01-01T00:00:00+00:00")
    for name in set(_names(extract.Article)) - set(items.NOT_CARRIED) - {"images"}:
        assert getattr(item, name) == values[name], name
    assert item.images == [dataclasses.asdict(image) for image in article.images]


def test_image_and_media_fields_are_images_columns():
    images = set(schema.IMAGES)
    assert set(_names(Image)) <= images
    assert MEDIA_COLUMNS == tuple(column.name for column in schema.MEDIA_FILE)
    assert set(MEDIA_COLUMNS) <= images and set(MEDIA_COLUMNS) <= set(schema.DOCUMENTS)


def test_every_item_column_reaches_the_archive(tmp_path):
    path = tmp_path / "archive.db"
    item = ArticleItem(url="https://x.org/news/a/1/", title="Title", published="2020-07-03", text="Body",
                       language="en", section="a", section_url="https://x.org/news/a/", section_title="A",
                       description="About", author="Someone", content_hash="hash", extractor="generic",
                       fetched_at="2026-01-01T00:00:00+00:00", listing_title="Title", listing_date="2020-07-03",
                       listing_url="https://x.org/news/a/", warc_file="ARCHIVER-1.warc.gz", warc_offset=42)
    archive = Archive(path)
    try:
        archive.save([dataclasses.asdict(item)])
    finally:
        archive.close()
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM articles").fetchone()
    for name in set(_names(ArticleItem)) - set(items.NOT_ARTICLE_COLUMNS):
        assert row[name] == getattr(item, name), name
