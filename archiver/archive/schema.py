"""The archive's schema: every table and column, declared once, with its type and description.

:data:`TABLES` is the one declaration. :func:`ensure_schema` creates or migrates the archive from it when a
crawl opens it; the Datasette metadata (:mod:`archiver.archive.datasette_metadata`), ``docs/schema.md`` and the
README's table of tables (:mod:`archiver.archive.schema_doc`) are made from it, and tests/archive/test_schema.py
fails when they disagree.

Migration only ever adds: new tables, new columns, new indexes. Columns are never renamed or dropped, so an
older archive opens in a newer archiver and the queries analysts wrote keep working.

Descriptions are Markdown (``code`` in backticks); :func:`plain` gives the text Datasette shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

SCHEMA_VERSION = 2
# The analysis layer (search, translations, a generated column) is made by this module, not by ensure_schema.
EXPLORE = "archiver.archive.explore"


@dataclass(frozen=True)
class Column:
    name: str
    type: type  # int or str: sqlite-utils makes them INTEGER and TEXT
    description: str
    short: str = ""  # a shorter description for narrow views (Datasette's column list), when the full one is long
    made_by: str = ""  # the module that adds the column, when ensure_schema does not (a generated column)

    @property
    def label(self) -> str:
        """The description Datasette shows: the short one if any, in plain text."""
        return plain(self.short or self.description)


@dataclass(frozen=True)
class Table:
    name: str
    description: str  # one line: the README's table of tables, Datasette's table description
    columns: tuple[Column, ...]
    pk: str | tuple[str, ...] = "id"
    not_null: tuple[str, ...] = ()
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (column, other table, other column)
    indexes: tuple[tuple[str, ...], ...] = ()
    unique_indexes: tuple[tuple[str, ...], ...] = ()
    made_by: str = ""  # the module that creates the table, when ensure_schema does not

    def types(self) -> dict[str, type]:
        """``{column: type}`` of the columns a crawl writes (generated columns left out)."""
        return {column.name: column.type for column in self.columns if not column.made_by}

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


def plain(text: str) -> str:
    """A Markdown description as plain text (Datasette shows descriptions as they are)."""
    return text.replace("`", "")


def _id() -> Column:
    return Column("id", int, "Integer primary key")


def _article() -> Column:
    return Column("article_id", int, "The article (`articles.id`)")


def _run(description: str = "The crawl run (`crawl_runs.id`)") -> Column:
    return Column("run_id", int, description)


# A downloaded file (archiver.capture.media): the same columns for images and documents.
MEDIA_FILE = (
    Column("sha256", str, "SHA-256 of the downloaded file; NULL when it could not be fetched (or downloads are off)"),
    Column("path", str, "Where the file is stored, relative to the archive's directory: "
                        "`media/ab/cd/<sha256>.<ext>` (content-addressed)",
           short="Where the file is stored (content-addressed)"),
    Column("bytes", int, "Size of the downloaded file"),
    Column("content_type", str, "Its Content-Type"),
    Column("fetched_at", str, "When it was downloaded (UTC)"),
)
_BY_ARTICLE = (("article_id", "articles", "id"),)
_BY_ARTICLE_AND_RUN = (("article_id", "articles", "id"), ("run_id", "crawl_runs", "id"))

TABLES: tuple[Table, ...] = (
    Table("articles", "One row per archived article (unique canonical URL); the English and Russian versions of "
                      "an item are two rows, linked in `translations`.", (
        _id(),
        Column("url", str, "Canonical absolute URL (unique): lower-case scheme and host, no fragment, no tracking "
                           "or session parameters (`utm_*`, `sphrase_id`, `PHPSESSID`…), sorted query, "
                           "`index.php`, missing trailing slash and `?PAGEN_1=1` (or `01`) folded, redirects resolved",
               short="Canonical absolute URL (unique)"),
        Column("title", str, "The article's own headline"),
        Column("published", str, "Publication date, ISO 8601 date (`2020-07-03`) or datetime; NULL when the page "
                                 "shows none", short="Publication date (ISO 8601)"),
        Column("date_missing", int, "1 when no date was found on the page (the article is kept)"),
        Column("text", str, "Clean body text, one paragraph per line, paragraphs separated by a blank line; the "
                            "signature line is kept", short="Body text, a blank line between paragraphs"),
        Column("language", str, "`en`, `ru`, … from the page's `lang`, else the profile's host language"),
        Column("section", str, "The section's slug (`news_odkb`)"),
        Column("section_url", str, "The section's listing URL"),
        Column("section_title", str, "The section's name"),
        Column("description", str, "From the page's metadata, when real"),
        Column("author", str, "From the page's metadata, when real"),
        Column("content_hash", str, "SHA-256 of title, published and text: tells an edit from an unchanged "
                                    "re-fetch", short="SHA-256 of title, published and text"),
        Column("image_count", int, "Number of rows in `images`"),
        Column("extractor", str, "`profile:<name>` or `generic`"),
        Column("fetched_at", str, "When the current content was fetched (UTC, ISO 8601)"),
        Column("first_seen", str, "When the article was first archived (UTC)"),
        Column("last_seen", str, "When a crawl last saw it (UTC)"),
        _run("The crawl run (`crawl_runs.id`) that wrote the current content"),
        Column("status", str, "`live`, or `gone` once the site answers 404/410 for it, or a \"not found\" page "
                              "after it vanished from its listing (see `removals`); never deleted",
               short="live, or gone (see removals)"),
        Column("listing_title", str, "The article's entry in a listing: a later run re-fetches the article when "
                                     "this entry changes", short="Its entry in a listing"),
        Column("listing_date", str, "The date shown in that listing entry"),
        Column("listing_url", str, "The first page of that listing"),
        Column("warc_file", str, "Provenance: the WARC file holding the response the article was extracted from "
                                 "(`archiver show`)", short="The WARC file of its response"),
        Column("warc_offset", int, "Offset of that response record in the WARC file"),
        Column("published_year", int, "Year of `published` (a virtual generated column, for the year facet)",
               made_by=EXPLORE),
    ), not_null=("url",), unique_indexes=(("url",),),
        indexes=(("content_hash",), ("published",), ("section",), ("language",), ("run_id",))),
    Table("images", "The images of each article, in order, with their downloaded files.", (
        _id(),
        _article(),
        Column("src", str, "Absolute URL, percent-encoded (Cyrillic and spaces in file names are kept, encoded)"),
        Column("alt", str, "The image's alt text"),
        Column("caption", str, "Its caption (`<figcaption>` or the caption block after it)"),
        Column("position", int, "Order in the article, from 0 (the detail picture first)"),
        *MEDIA_FILE,
    ), foreign_keys=_BY_ARTICLE, indexes=(("src",), ("article_id", "position"))),
    Table("url_aliases", "Other URLs that led to an article (redirect sources, duplicate section paths).", (
        Column("url", str, "Another canonical URL that led to the article (a redirect source, a duplicate section "
                           "path)"),
        _article(),
        Column("first_seen", str, "When it was first seen (UTC)"),
    ), pk="url", foreign_keys=_BY_ARTICLE),
    Table("crawl_runs", "One row per crawl run: when, how, and what it found.", (
        _id(),
        Column("started", str, "Start (UTC)"),
        Column("finished", str, "End (UTC)"),
        Column("status", str, "`running`, `finished`, `interrupted` (stopped by a signal, or found dead by the "
                              "next run) or `failed`"),
        Column("mode", str, "`first` (empty archive), `incremental`, `complete` (after an interrupted run), "
                            "`full` (`-a full=1`) or `rebuild` (`archiver rebuild`: the archive re-derived from its "
                            "WARC files; `responses_*` count the response records read, `items_dropped` the "
                            "records skipped)"),
        Column("seeds", str, "The seed URLs (JSON list)"),
        Column("pid", int, "Process id of the crawl"),
        Column("requests", int, "Requests made"),
        Column("responses_2xx", int, "2xx responses"),
        Column("responses_3xx", int, "3xx responses"),
        Column("responses_4xx", int, "4xx responses"),
        Column("responses_5xx", int, "5xx responses"),
        Column("articles_new", int, "Articles archived for the first time"),
        Column("articles_updated", int, "Articles whose content changed (the replaced content is in "
                                        "`article_versions`)"),
        Column("articles_unchanged", int, "Articles seen again unchanged (a page fetched twice in the run counts "
                                          "in `pages_refetched` instead)"),
        Column("articles_gone", int, "Articles the site removed (see `removals`)"),
        Column("articles_restored", int, "Articles found under another URL with content already archived: the URL "
                                         "is recorded as an alias (`aliases`), nothing stored twice",
               short="Articles re-stored under another URL (recorded as aliases)"),
        Column("pages_refetched", int, "Article pages fetched twice in the run (directly and through a redirect): "
                                       "archived once, not counted as unchanged"),
        Column("errors", int, "ERROR lines logged"),
        Column("items_dropped", str, "JSON `{reason: count}` of the items the pipelines refused"),
        Column("coverage", str, "JSON: the number of articles extracted, and the share of them with a title, a date, "
                                "text, images"),
        Column("degraded", str, "Why the run is degraded (exit code 4), or NULL"),
        Column("finish_reason", str, "Scrapy's finish reason: `finished`, `shutdown`, …"),
        Column("exit_code", int, "Exit code of the crawl: 0 ok, 3 failed, 4 degraded, 74 a write failed, 75 locked "
                                    "(docs/terminal.md)"),
        Column("warc_bytes", int, "WARC bytes written (compressed)"),
        Column("media_bytes", int, "Bytes of media files stored (new files only)"),
    )),
    Table("article_versions", "Content an edit replaced: an article's previous title, date and text.", (
        _id(),
        _article(),
        Column("title", str, "The replaced headline"),
        Column("published", str, "The replaced publication date"),
        Column("text", str, "The replaced text"),
        Column("content_hash", str, "SHA-256 of the replaced content"),
        Column("fetched_at", str, "When the replaced content had been fetched (UTC)"),
        _run("The run that had written it"),
        Column("superseded_at", str, "When a crawl found the new content (UTC)"),
        Column("superseded_by_run", int, "The run that replaced it"),
        Column("warc_file", str, "Provenance: the WARC file of the response it came from (when WARC capture is on)"),
        Column("warc_offset", int, "Offset of that response record"),
        Column("reason", str, "Why it was replaced: `re-extracted` when `archiver rebuild` read the same capture "
                              "anew (a better extraction); NULL when a crawl found new content (an edit)",
               short="re-extracted (archiver rebuild), or NULL for an edit"),
    ), foreign_keys=_BY_ARTICLE_AND_RUN, indexes=(("article_id",),)),
    Table("pages", "The crawl state of every URL: what it is, when it was fetched, its validators.", (
        Column("url", str, "Canonical URL"),
        Column("kind", str, "`article`, `listing`, `other` (not an article: soft 404, empty page), `error` or "
                            "`sitemap` (a sitemap file read whole, docs/crawling.md)"),
        Column("state", str, "`seen` (scheduled), `fetched`, `stored` (its article is archived, written in the "
                             "same transaction)"),
        Column("http_status", int, "Last HTTP status"),
        Column("etag", str, "ETag of the last response, for conditional requests"),
        Column("last_modified", str, "Last-Modified of the last response, for conditional requests"),
        Column("fetched_at", str, "When it was last fetched (UTC)"),
        _run("The last run that touched it"),
        Column("revisit_interval", int, "An archived article's revisit interval in seconds: doubled when a revisit "
                                        "finds it unchanged, halved when it changed, within `REVISIT_MIN_INTERVAL` "
                                        "and `REVISIT_MAX_INTERVAL` (docs/crawling.md, \"Revisits\")",
               short="Revisit interval (seconds), adapted to how often the article changes"),
        Column("next_revisit", str, "When an incremental run next checks the archived article (UTC); a sitemap "
                                    "or feed saying it changed makes it due at once",
               short="When an incremental run next checks the article (UTC)"),
    ), pk="url", indexes=(("state",), ("next_revisit",))),
    Table("removals", "Articles the site took down, and how the crawl noticed.", (
        _id(),
        _article(),
        Column("url", str, "Its URL"),
        Column("reason", str, "`HTTP 404`, `HTTP 410`; or, for an article gone from the stretch of its listing a "
                              "run read (it is then fetched again to check), `vanished from listing, no longer an "
                              "article (…)` (a \"not found\" page served with 200; the article is `gone`) or "
                              "`vanished from listing, the page still there` (it stays `live`)",
               short="HTTP 404, HTTP 410, vanished from listing (no longer an article, or the page still there)"),
        Column("http_status", int, "The status the site answered"),
        _run("The run that noticed"),
        Column("seen_at", str, "When (UTC)"),
    ), foreign_keys=_BY_ARTICLE_AND_RUN, indexes=(("article_id",),)),
    Table("documents", "Documents (PDF, DOC, XLS…) linked from articles, downloaded like images.", (
        _id(),
        _article(),
        Column("url", str, "The document's URL"),
        Column("text", str, "The link's text"),
        Column("position", int, "Order in the article, from 0"),
        *MEDIA_FILE,
    ), foreign_keys=_BY_ARTICLE, indexes=(("article_id", "position"), ("url",))),
    Table("captures", "One row per WARC record written: the WARC index, queryable.", (
        _id(),
        Column("url", str, "`WARC-Target-URI`"),
        Column("warc_date", str, "`WARC-Date` (UTC, microseconds)"),
        Column("record_type", str, "`warcinfo`, `request`, `response`, `revisit` or `metadata` (the headers of a 304)"),
        Column("status", int, "HTTP status of a response or revisit"),
        Column("content_type", str, "HTTP Content-Type of a response or revisit"),
        Column("payload_digest", str, "`WARC-Payload-Digest` (`sha1:BASE32`)"),
        Column("block_digest", str, "`WARC-Block-Digest`"),
        Column("warc_file", str, "File name in the WARC directory (`WARC_DIR`)"),
        Column("offset", int, "Byte offset of the record's gzip member in that file"),
        Column("length", int, "Length of that gzip member"),
        Column("record_id", str, "`WARC-Record-ID`"),
        Column("refers_to", str, "A revisit's `WARC-Refers-To`: the original response's record id"),
        _run("The crawl run that wrote it"),
    ), indexes=(("payload_digest",), ("url",), ("warc_file", "offset"))),
    Table("article_search", "Search helper: each article's Snowball stems, for the `search` query.", (
        Column("article_id", int, "The article (`articles.id`)"),
        Column("language", str, "Its language"),
        Column("stems", str, "Stems of the title, a newline, stems of the text (Russian stemmer for Cyrillic words, "
                             "English for the others)"),
        Column("content_hash", str, "The article's `content_hash` the stems were made from"),
        Column("stemmer", str, "Stemmer version (`archiver.archive.stemming.STEMMER_VERSION`)"),
    ), pk="article_id", foreign_keys=_BY_ARTICLE),
    Table("translations", "The same item in another language: each pair linked both ways, never merged.", (
        Column("article_id", int, "The article (`articles.id`)"),
        Column("translation_id", int, "Its version in another language (`articles.id`)"),
        Column("language", str, "The language of `translation_id`"),
        Column("method", str, "How they were matched: `same path` (on both hosts), else `same date and images` "
                              "(the same date and an image file name in common)"),
    ), pk=("article_id", "translation_id"), made_by=EXPLORE,
        foreign_keys=(("article_id", "articles", "id"), ("translation_id", "articles", "id"))),
)
_by_name = {declared.name: declared for declared in TABLES}


def table(name: str) -> Table:
    """The declaration of the table ``name``."""
    return _by_name[name]


# {column: type} of each table a crawl writes, by name, for the modules that build rows.
ARTICLES = table("articles").types()
IMAGES = table("images").types()
URL_ALIASES = table("url_aliases").types()
CRAWL_RUNS = table("crawl_runs").types()
ARTICLE_VERSIONS = table("article_versions").types()
PAGES = table("pages").types()
REMOVALS = table("removals").types()
DOCUMENTS = table("documents").types()
CAPTURES = table("captures").types()
ARTICLE_SEARCH = table("article_search").types()
TRANSLATIONS = table("translations").types()


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create the tables and indexes, or add what an older archive lacks."""
    created = [declared for declared in TABLES if not declared.made_by]
    for declared in created:
        _table(db, declared)
    for declared in created:
        for columns in declared.unique_indexes:
            db[declared.name].create_index(list(columns), unique=True, if_not_exists=True)
        for columns in declared.indexes:
            db[declared.name].create_index(list(columns), if_not_exists=True)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _table(db: sqlite_utils.Database, declared: Table) -> None:
    columns = declared.types()
    existing = db[declared.name]
    if not existing.exists():
        existing.create(columns, pk=declared.pk, not_null=set(declared.not_null) or None,
                        foreign_keys=list(declared.foreign_keys) or None)
        return
    present = {column.name for column in existing.columns}
    for column, kind in columns.items():
        if column not in present:
            existing.add_column(column, kind)
