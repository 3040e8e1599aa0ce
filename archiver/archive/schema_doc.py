"""``docs/schema.md`` and the README's table of tables, generated from :mod:`archiver.archive.schema`.

    python -m archiver.archive.schema_doc            # rewrite docs/schema.md, and the README's block
    python -m archiver.archive.schema_doc --check    # exit 1 when either is out of date

The column tables are never written by hand: every column's type and description come from
:data:`archiver.archive.schema.TABLES`. The prose that is not about one column (what a table is for, how its rows
come and go) is data here, by table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import schema
from .explore import INDEXES as ANALYSIS_INDEXES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "schema.md"
README = ROOT / "README.md"
BEGIN, END = "<!-- schema:tables -->", "<!-- /schema:tables -->"
SQL_TYPES = {int: "INTEGER", str: "TEXT"}

INTRO = """\
The archive is one SQLite database (`ARCHIVE_DB`, by default `data/archive.db`), in WAL mode, written in batched
transactions: an article always together with its images, documents, aliases and crawl state. A crawl creates the
schema when it opens the archive, or migrates it. Migration only ever adds (tables, columns, indexes): columns are
never renamed or dropped, so an older archive opens in a newer archiver and the queries written for it keep
working.

After every crawl run, and with `archiver explore`, the analysis layer (`archiver.archive.explore`) adds what
Datasette and analysts need beyond the crawler's tables: `translations`, the full-text indexes `articles_fts`
(FTS5 over `articles.title` and `articles.text`, kept in sync by triggers: the search box of Datasette's
`articles` page, exact words) and `article_search_fts` (over the stems of `article_search`: the `search` query,
any inflected form), the generated column `articles.published_year`, more indexes, and `metadata.json` next to
the database (these descriptions, for Datasette). It never touches the crawler's rows.

Times are UTC, ISO 8601. An article is never deleted: one the site removed stays, with `status` = `gone`."""

FILES = """\
```text
data/
  archive.db                                     SQLite (ARCHIVE_DB): the tables below
  metadata.json, settings.json                   Datasette's metadata (from this schema) and settings
  warc/ARCHIVER-20260101020000123-00000.warc.gz  every HTTP exchange, WARC/1.1, one gzip member per record
  warc/index.cdxj                                CDXJ index of every response and revisit (sorted, for pywb)
  media/ab/cd/abcd…ef.jpg                        article images and documents, named by their SHA-256
```

Each downloaded content (`archiver.capture.media`) is stored once, as `MEDIA_DIR/ab/cd/<sha256>.<ext>`, the
extension taken from the Content-Type (or a short alphanumeric URL extension, else `bin`): nothing else of the URL
reaches the file system. Its rows in `images` and `documents` give that path, relative to the archive's
directory."""

NOTES = {
    "articles": """\
Crawling twice adds no rows, and an article reached through several URLs (redirects, tracking variants, a second
section with the same content) is stored once, its other URLs in `url_aliases`. When a
re-fetch finds the title, date or text changed, the row takes the new content and the previous one goes to
`article_versions`; an unchanged re-fetch only moves `last_seen`.""",
    "images": """\
Listed by extraction; the file columns are filled when the image is downloaded, and stay NULL when it could not
be fetched or downloads are off (`MEDIA_ENABLED=0`).""",
    "url_aliases": "A crawl that meets one of these URLs again stores what it finds as that article, never as a new "
                   "one.",
    "crawl_runs": """\
`articles.run_id`, `article_versions.run_id`, `pages.run_id`, `removals.run_id` and `captures.run_id` name the
run that wrote them.""",
    "article_versions": """\
When a re-fetched article's title, date or text changed, its previous content is copied here and the `articles`
row becomes the new version.""",
    "pages": """\
The crawl's own per-URL state, kept in the archive so that a killed run can be completed (Scrapy's `JOBDIR` only
survives a clean stop) and re-crawls can send conditional requests.""",
    "removals": """\
They are never deleted from the archive: their `articles.status` becomes `gone` (or stays `live`, when the
page is still there).""",
    "documents": """\
The documents (PDF, DOC, XLS, PPT, ODT, RTF…) an article's body links to, listed by extraction, downloaded or not:
the file columns are those of `images`, NULL in the same cases.""",
    "captures": """\
Written as the records are written. `archiver verify` re-reads every record it lists and checks the WARC files
against it.""",
    "article_search": """\
Written by the crawl with each article (the stems are made where the page is extracted); the analysis layer
stems what no crawl did (an archive written by another tool or an older archiver, a new stemmer version), for new
and changed articles only. `article_search_fts` indexes the stems; the `search` query stems its words the same
way, so `терроризма` finds `терроризму` and `meetings` finds `meeting`. Hidden in Datasette.""",
    "translations": """\
Made by the analysis layer, for the English and Russian versions of one item when the match is unique. The two
articles stay two rows. The links are found again at every refresh; only those that changed are written.""",
}

QUERIES = """\
```sh
sqlite3 data/archive.db "select published, language, title from articles order by published desc limit 10"
sqlite3 data/archive.db "select language, section, count(*) from articles group by 1, 2"
sqlite3 data/archive.db "select a.title, i.src from images i join articles a on a.id = i.article_id limit 5"
sqlite3 data/archive.db "select url from articles where date_missing"
# the last runs, and an article's history (its current row, then the versions it replaced)
sqlite3 data/archive.db "select id, started, status, mode, articles_new, articles_updated, exit_code from crawl_runs order by id desc limit 5"
sqlite3 data/archive.db "select superseded_at, title from article_versions where article_id = 42 order by id"
sqlite3 data/archive.db "select a.url, r.reason, r.seen_at from removals r join articles a on a.id = r.article_id"
# the WARC index
sqlite3 data/archive.db "select status, record_type, count(*) from captures group by 1, 2"
sqlite3 data/archive.db "select url, warc_file, offset from captures where url like '%.pdf'"
```"""


def tables_block(link: str = "docs/schema.md") -> str:
    """The table of tables: each table's name (a link to its section of ``link``) and its one line."""
    rows = [f"| [`{table.name}`]({link}#{table.name}) | {_cell(table.description)} |" for table in schema.TABLES]
    return "\n".join(["| table | what it holds |", "|---|---|", *rows])


def schema_markdown() -> str:
    """The whole of ``docs/schema.md``."""
    parts = [
        "# The archive's schema",
        "*Generated by `python -m archiver.archive.schema_doc` from `archiver/archive/schema.py`, where every "
        "table and column is declared once, with its type and description: edit those, not this file "
        "(`tests/archive/test_schema.py` fails when the two disagree).*",
        INTRO,
        tables_block(link=""),
        "## Files",
        FILES,
        *(section for table in schema.TABLES for section in _table_sections(table)),
        "## Querying with `sqlite3`",
        QUERIES,
    ]
    return "\n\n".join(parts) + "\n"


def _table_sections(table: schema.Table) -> list[str]:
    sections = [f"## `{table.name}`", table.description]
    if table.name in NOTES:
        sections.append(NOTES[table.name])
    rows = [f"| `{column.name}` | {_type(column)} | {_cell(column.description)} |" for column in table.columns]
    sections.append("\n".join(["| column | type | description |", "|---|---|---|", *rows]))
    sections.append(_keys(table))
    return sections


def _type(column: schema.Column) -> str:
    kind = SQL_TYPES[column.type]
    return f"{kind}, generated" if column.made_by else kind


def _keys(table: schema.Table) -> str:
    pk = (table.pk,) if isinstance(table.pk, str) else table.pk
    lines = [f"Primary key {_columns(pk)}."]
    if table.foreign_keys:
        lines.append("References: " + ", ".join(f"`{column}` → `{other}.{other_column}`"
                                                for column, other, other_column in table.foreign_keys) + ".")
    indexes = [f"{_columns(columns)} (unique)" for columns in table.unique_indexes]
    indexes += [_columns(columns) for columns in table.indexes]
    indexes += [_columns(columns) for name, columns in ANALYSIS_INDEXES if name == table.name]
    if indexes:
        lines.append("Indexes: " + ", ".join(indexes) + ".")
    if table.made_by:
        lines.append(f"Created by `{table.made_by}`.")
    return " ".join(lines)


def _columns(columns) -> str:
    return "`" + ", ".join(columns) + "`" if len(columns) == 1 else "`(" + ", ".join(columns) + ")`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def readme_with_block(readme: str) -> str | None:
    """``readme`` with the text between the markers replaced by :func:`tables_block`; None without markers."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        return None
    return readme[:start + len(BEGIN)] + "\n" + tables_block() + "\n" + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archiver.archive.schema_doc",
                                     description="Generate docs/schema.md and the README's table of tables "
                                                 "from archiver/archive/schema.py.")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if either is out of date")
    args = parser.parse_args(argv)
    wanted = {DOC: schema_markdown()}
    readme = README.read_text(encoding="utf-8")
    block = readme_with_block(readme)
    if block is None:
        print(f"{README.name}: no {BEGIN} ... {END} markers, left alone", file=sys.stderr)
    else:
        wanted[README] = block
    stale = [path for path, text in wanted.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    for path in stale:
        if args.check:
            print(f"{path.relative_to(ROOT)} is out of date: run python -m archiver.archive.schema_doc")
        else:
            path.write_text(wanted[path], encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
