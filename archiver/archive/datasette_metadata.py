"""Datasette metadata of an archive: titles, descriptions, column descriptions, facets, labels, canned queries.

Written next to the database by :func:`archiver.archive.explore.refresh` as ``metadata.json`` (and
``settings.json``), so that ``datasette data/`` (configuration-directory mode) shows it all with no flag.
Declarative: a table or a canned query is an entry in :data:`TABLES` or :data:`CANNED_QUERIES`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import sqlite_utils

METADATA_FILE = "metadata.json"
SETTINGS_FILE = "settings.json"
# Datasette settings written next to the archive unless already set there. Suggesting facets costs up
# to 50 ms per column on every table page (2 s on 100k articles); the useful facets are configured.
SETTINGS = {"suggest_facets": False}

TABLES = {
    "articles": ("One row per archived article (unique canonical URL). The English and Russian versions of an "
                 "item are two rows, linked in translations.", {
        "id": "Integer primary key",
        "url": "Canonical absolute URL (unique): lower-case scheme and host, no fragment or tracking parameters, "
               "redirects resolved",
        "title": "The article's own headline",
        "published": "Publication date, ISO 8601 (date or datetime); empty when the page shows none",
        "date_missing": "1 when no date was found on the page (the article is kept)",
        "text": "Clean body text, one paragraph per line, paragraphs separated by a blank line",
        "language": "en, ru, ... from the page's lang, else the host's language",
        "section": "Section slug (news_odkb)",
        "section_url": "The section's listing URL",
        "section_title": "The section's name",
        "description": "From the page's metadata, when real",
        "author": "From the page's metadata, when real",
        "content_hash": "SHA-256 of title, published and text: tells an edit from an unchanged re-fetch",
        "image_count": "Number of rows in images",
        "extractor": "profile:<name> or generic",
        "fetched_at": "When the current content was fetched (UTC)",
        "first_seen": "When the article was first archived (UTC)",
        "last_seen": "When a crawl last saw it (UTC)",
        "run_id": "The crawl run that wrote the current content",
        "status": "live, or gone once the site answers 404/410 for it",
        "listing_title": "The article's entry in a listing (to notice edits without fetching it)",
        "listing_date": "The date shown in that listing entry",
        "listing_url": "The first page of that listing",
        "warc_file": "Provenance: the WARC file holding the response the article was extracted from",
        "warc_offset": "Offset of that response record in the WARC file",
        "published_year": "Year of published (generated column, for the year facet)",
    }),
    "images": ("The images of each article, in order", {
        "id": "Integer primary key",
        "article_id": "The article",
        "src": "Absolute URL, percent-encoded",
        "alt": "The image's alt text",
        "caption": "Its caption (figcaption or the caption block after it)",
        "position": "Order in the article, from 0 (the detail picture first)",
        "sha256": "SHA-256 of the downloaded file; empty when it could not be fetched",
        "path": "Where the downloaded file is stored (content-addressed)",
        "bytes": "Size of the downloaded file",
        "content_type": "Its Content-Type",
        "fetched_at": "When it was downloaded (UTC)",
    }),
    "documents": ("Documents (PDF, DOC...) linked from articles, downloaded like images", {
        "id": "Integer primary key",
        "article_id": "The article",
        "url": "The document's URL",
        "text": "The link's text",
        "position": "Order in the article, from 0",
        "sha256": "SHA-256 of the downloaded file; empty when it could not be fetched",
        "path": "Where the downloaded file is stored (content-addressed)",
        "bytes": "Size of the downloaded file",
        "content_type": "Its Content-Type",
        "fetched_at": "When it was downloaded (UTC)",
    }),
    "captures": ("One row per WARC record written: the WARC index", {
        "id": "Integer primary key",
        "run_id": "The crawl run that wrote it",
    }),
    "url_aliases": ("Other URLs that led to an article (redirect sources, duplicate section paths)", {
        "url": "The other canonical URL",
        "article_id": "The article it led to",
        "first_seen": "When it was first seen (UTC)",
    }),
    "article_versions": ("Content an edit replaced: the article's previous title, date and text", {
        "id": "Integer primary key",
        "article_id": "The article",
        "title": "The previous headline",
        "published": "The previous publication date",
        "text": "The previous text",
        "content_hash": "SHA-256 of that content",
        "fetched_at": "When that content was fetched (UTC)",
        "run_id": "The run that had written it",
        "superseded_at": "When a crawl found the new content (UTC)",
        "superseded_by_run": "The run that replaced it",
        "warc_file": "Provenance: WARC file of the response it came from",
        "warc_offset": "Offset of that response record",
    }),
    "crawl_runs": ("One row per crawl run: when, how, and what it found", {
        "id": "Integer primary key",
        "started": "Start (UTC)",
        "finished": "End (UTC)",
        "status": "running, finished, interrupted or failed",
        "mode": "incremental, complete (after an interrupted run) or full",
        "seeds": "The start URLs (JSON list)",
        "pid": "Process id of the crawl",
        "requests": "Requests made",
        "responses_2xx": "2xx responses",
        "responses_3xx": "3xx responses",
        "responses_4xx": "4xx responses",
        "responses_5xx": "5xx responses",
        "articles_new": "Articles archived for the first time",
        "articles_updated": "Articles whose content changed",
        "articles_unchanged": "Articles seen again unchanged",
        "articles_gone": "Articles the site removed",
        "errors": "ERROR log lines",
        "items_dropped": "Items dropped, by reason (JSON)",
        "coverage": "Share of extracted articles with each field (JSON)",
        "degraded": "Why the run is degraded, if it is",
        "finish_reason": "Scrapy's finish reason",
        "exit_code": "Exit code of the crawl (0 ok, 3 failed, 4 degraded, 75 locked)",
    }),
    "pages": ("The crawl state of every URL: what it is and when it was fetched", {
        "url": "Canonical URL",
        "kind": "article, listing, other or error",
        "state": "seen (scheduled), fetched, stored (article archived)",
        "http_status": "Last HTTP status",
        "etag": "ETag, for conditional requests",
        "last_modified": "Last-Modified, for conditional requests",
        "fetched_at": "When it was last fetched (UTC)",
        "run_id": "The last run that touched it",
    }),
    "removals": ("Articles the site removed, and how we noticed", {
        "id": "Integer primary key",
        "article_id": "The article",
        "url": "Its URL",
        "reason": "HTTP 404, HTTP 410, vanished from listing",
        "http_status": "The status seen",
        "run_id": "The run that noticed",
        "seen_at": "When (UTC)",
    }),
    "translations": ("The same item in another language: each pair is linked both ways; never merged", {
        "article_id": "The article",
        "translation_id": "Its version in another language",
        "language": "The language of translation_id",
        "method": "How they were matched: same path (on both hosts), or same date and images",
    }),
    "article_search": ("Search helper: each article's Snowball stems (used by the search query)", {
        "article_id": "The article",
        "language": "Its language",
        "stems": "Stems of title and text (Russian stemmer for Cyrillic words, English for others)",
        "content_hash": "The content_hash the stems were made from",
        "stemmer": "Stemmer version",
    }),
}

CANNED_QUERIES = {
    "search": {
        "title": "Search articles (English and Russian, any inflected form)",
        "description": "Every word must occur in the title or text, in any inflected form (Snowball stemming: "
                       "терроризма finds терроризму, meetings finds meeting). Leave language empty for both.",
        "hide_sql": True,
        "sql": """select a.id as article, a.published, a.language, a.section, a.title,
  search_snippet(a.text, :q) as snippet
from article_search_fts
join articles a on a.id = article_search_fts.rowid
where article_search_fts match stem_query(:q)
  and (:language = '' or a.language = :language)
order by article_search_fts.rank, a.published desc
limit 100""",
    },
    "articles_per_month": {
        "title": "Articles per month, per language",
        "sql": """select substr(published, 1, 7) as month,
  sum(language = 'en') as en, sum(language = 'ru') as ru, count(*) as articles
from articles
where published is not null
group by month
order by month desc""",
    },
    "latest_per_section": {
        "title": "Latest articles of each section",
        "description": "The five newest articles of every section, in each language",
        "sql": """select a.section, a.section_title, a.language, a.published, a.title, a.id as article
from (select section, language from articles where published is not null group by section, language) g
join articles a on a.id in (
  select id from articles
  where section is g.section and language is g.language and published is not null
  order by published desc limit 5)
order by a.section, a.language, a.published desc""",
    },
    "most_images": {
        "title": "Articles with the most images",
        "sql": """select id as article, published, language, section, title, image_count
from articles
where image_count > 0
order by image_count desc, published desc
limit 100""",
    },
    "changed_since": {
        "title": "Articles changed since a date",
        "description": "Articles whose content a later crawl found edited (their previous versions are in "
                       "article_versions). since: a date like 2024-01-01; empty for all",
        "sql": """select a.id as article, a.language, a.published, a.title, v.title as previous_title,
  v.published as previous_published, v.superseded_at as changed_at,
  length(a.text) - length(v.text) as text_length_change
from article_versions v
join articles a on a.id = v.article_id
where v.superseded_at >= :since
order by v.superseded_at desc""",
    },
}


def schema_comments() -> dict[str, dict[str, str]]:
    """``{table: {column: comment}}`` from the comments of :mod:`archiver.archive.schema` (``"col": type,  # comment``):
    the description of a column added there without one here."""
    import inspect

    from . import schema

    comments: dict[str, dict[str, str]] = defaultdict(dict)
    table = None
    for line in inspect.getsource(schema).splitlines():
        start = re.match(r"([A-Z_]+) = \{", line)
        if start:
            table = start.group(1).lower()
        found = re.search(r'"(\w+)":\s*\w+,\s*#\s*(.+)$', line)
        if table and found:
            comments[table][found.group(1)] = found.group(2).strip()
        if line.startswith("}") or (start and line.rstrip().endswith("}")):
            table = None
    return comments


# For a column of a new table that nobody described yet.
GENERIC = {"id": "Integer primary key", "article_id": "The article", "run_id": "The crawl run"}


def column_descriptions(table: str) -> dict[str, str]:
    return {**GENERIC, **schema_comments().get(table, {}), **TABLES.get(table, ("", {}))[1]}


def metadata(db: sqlite_utils.Database, name: str) -> dict:
    """Datasette metadata for the archive ``name`` (the database file's stem)."""
    runs = db.execute("SELECT min(started), max(finished), count(*) FROM crawl_runs").fetchone() \
        if db["crawl_runs"].exists() else (None, None, 0)
    seeds: list[str] = []
    for (value,) in db.execute("SELECT seeds FROM crawl_runs WHERE seeds IS NOT NULL ORDER BY id DESC LIMIT 20"):
        try:
            seeds += [s for s in json.loads(value) if s not in seeds]
        except (TypeError, ValueError):
            pass
    hosts = sorted({urlsplit(url).netloc for (url,) in db.execute(
        "SELECT url FROM articles WHERE id IN (SELECT min(id) FROM articles GROUP BY language, section)")})
    site = _site_description(seeds)
    count, oldest, newest = db.execute("SELECT count(*), min(published), max(published) FROM articles").fetchone()
    languages = ", ".join(f"{language} {n}" for language, n in db.execute(
        "SELECT language, count(*) FROM articles GROUP BY language ORDER BY 2 DESC"))
    description = (
        f"An archive of {site or 'news sites'} made by archiver (Scrapy + trafilatura + SQLite). "
        f"Source: {', '.join(seeds) or ', '.join(hosts) or 'unknown'}. "
        f"{count} articles ({languages or 'none'}), published {oldest or '?'} to {newest or '?'}; "
        f"crawled {(runs[0] or '?')[:10]} to {(runs[1] or '?')[:10]} in {runs[2]} run{'s' if runs[2] != 1 else ''}. "
        "Licence: the articles and images are the source site's, under its own terms; this archive is a copy "
        "for research and reference, not a licence to republish. Search: the search query (any inflected "
        "form) or the search box of articles (exact words).")
    tables = {}
    comments = schema_comments()
    for table in [*TABLES, *(t for t in comments if t not in TABLES)]:
        if not db[table].exists():
            continue
        table_description, columns = TABLES.get(table, (None, {}))
        columns = {**GENERIC, **comments.get(table, {}), **columns}
        present = {row[1] for row in db.execute(f"PRAGMA table_xinfo([{table}])")}
        tables[table] = {"description": table_description,
                         "columns": {column: text for column, text in columns.items() if column in present}}
    tables["articles"].update(label_column="title", sort_desc="published",
                              facets=["section", "language", "published_year"])
    tables["images"].update(sort="article_id", facets=["position"])
    tables["article_versions"].update(sort_desc="superseded_at", label_column="title")
    tables["crawl_runs"].update(sort_desc="id", facets=["status", "mode"], label_column="started")
    if "removals" in tables:
        tables["removals"].update(sort_desc="seen_at", facets=["reason"])
    tables["pages"].update(facets=["kind", "state", "http_status"])
    tables["translations"].update(facets=["language", "method"])
    tables["article_search"]["hidden"] = True
    return {
        "title": name if name != "archive" else f"archiver: {site or 'news archive'}",
        "databases": {name: {
            "title": f"{site or 'News archive'} ({name})",
            "description": description,
            "source": ", ".join(seeds[:2]) or ", ".join(hosts) or None,
            "source_url": seeds[0] if seeds else None,
            "license": "The source site's terms (archived copy for research)",
            "tables": tables,
            "queries": CANNED_QUERIES,
        }},
    }


def _site_description(seeds: list[str]) -> str | None:
    from ..profiles import profile_for_url

    for seed in seeds:
        profile = profile_for_url(seed)
        if profile is not None and profile.description:
            return profile.description
    return None


def write_metadata_file(db: sqlite_utils.Database, path: Path) -> Path:
    """Write (or update this database's entry of) ``metadata.json`` next to the database, atomically."""
    target = path.parent / METADATA_FILE
    name = path.stem
    fresh = metadata(db, name)
    try:
        current = json.loads(target.read_text(encoding="utf-8"))
        if not isinstance(current, dict):
            current = {}
    except (OSError, ValueError):
        current = {}
    current.setdefault("databases", {})[name] = fresh["databases"][name]
    if name == "archive" or "title" not in current:
        current["title"] = fresh["title"]
    _drop_none(current)
    _write_json(target, current)
    return target


def write_settings_file(path: Path) -> Path:
    """Add :data:`SETTINGS` to ``settings.json`` next to the database; a setting already there is kept."""
    target = path.parent / SETTINGS_FILE
    try:
        current = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        current = {}
    if isinstance(current, dict) and all(key in current for key in SETTINGS):
        return target
    current = {**SETTINGS, **(current if isinstance(current, dict) else {})}
    _write_json(target, current)
    return target


def _write_json(target: Path, value) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(value, out, ensure_ascii=False, indent=2)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)


def _drop_none(value):
    if isinstance(value, dict):
        for key in [k for k, v in value.items() if v is None]:
            del value[key]
        for v in value.values():
            _drop_none(v)
    return value


