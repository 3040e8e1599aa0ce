"""The archive's analysis layer: what Datasette and analysts need beyond the crawler's tables.

:func:`refresh` runs at the end of every crawl run (:mod:`archiver.runs`) and
after ``archiver ingest`` wrote a burst of items (:mod:`archiver.cluster`). It
only ever adds to the archive (tables, indexes, a generated column), never
touches the crawler's rows, and is cheap when little changed:

- ``articles_fts``: FTS5 over ``articles.title`` and ``articles.text``
  (sqlite-utils ``enable_fts``, tokenizer ``unicode61 remove_diacritics 2``:
  Cyrillic and Latin case-fold, ``ё`` = ``е``, ``й`` = ``и``). Kept in sync by
  SQL triggers, so any writer (the crawler, ``sqlite-utils``, ``sqlite3``) keeps
  it right; the update trigger fires only when ``title`` or ``text`` change,
  not when a re-crawl touches ``last_seen``. Datasette finds it on its own: the
  ``articles`` table page gets a search box (exact word forms).
- ``article_search``: one row per article with its Snowball stems (Russian
  stemmer for Cyrillic words, English for the others), and ``article_search_fts``
  over it. Stems need Python, so triggers cannot make them: they are updated here,
  only for articles whose ``content_hash`` changed. The ``search`` canned query
  stems the user's query the same way (SQL functions ``stem_query`` and
  ``search_snippet`` from :mod:`archiver.datasette_plugin`), so ``терроризма``
  finds an article saying ``терроризму``, and ``meetings`` one saying ``meeting``.
  (A stemmer folds inflections, not derivations: ``обсуждали`` and ``обсудили`` stay apart.)
- ``translations``: the English and Russian versions of one item, linked both
  ways (``method``: ``same path`` on both hosts, else ``same date and images``).
  Rebuilt from scratch on each refresh (one pass over ``articles`` and ``images``).
- ``articles.published_year``: a virtual generated column, for the year facet.
- Indexes for the columns analysts filter and sort by.
- ``metadata.json`` next to the database: the Datasette metadata (titles,
  descriptions, column descriptions, facets, sort, labels, canned queries), so
  ``datasette data/`` (configuration-directory mode) shows it all with no flag.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import sqlite_utils

logger = logging.getLogger(__name__)

TOKENIZE = "unicode61 remove_diacritics 2"
# Bump when the stemming changes: every article is stemmed again on the next refresh.
STEMMER_VERSION = "snowball-3:script"
WORD = re.compile(r"\w+", re.UNICODE)
CYRILLIC = re.compile("[\u0400-\u04ff]")
METADATA_FILE = "metadata.json"
SETTINGS_FILE = "settings.json"
# Datasette settings written next to the archive unless already set there. Suggesting facets costs up
# to 50 ms per column on every table page (2 s on 100k articles); the useful facets are configured.
SETTINGS = {"suggest_facets": False}
INDEXES = [
    ("articles", ["language", "published"]),
    ("articles", ["section", "language", "published"]),
    ("articles", ["published_year"]),
    ("articles", ["image_count"]),
    ("article_versions", ["superseded_at"]),
    ("translations", ["translation_id"]),
]


# -- stemming (shared with the Datasette plugin: the query is stemmed like the documents) ---------


@lru_cache(maxsize=2)
def _stemmer(language: str):
    import snowballstemmer

    return snowballstemmer.stemmer(language)


@lru_cache(maxsize=200_000)
def stem_word(word: str) -> str:
    """The Snowball stem of one lower-case word: Russian for Cyrillic words, English for the others."""
    word = word.replace("ё", "е")
    return _stemmer("russian" if CYRILLIC.search(word) else "english").stemWord(word)


def words(text: str | None) -> list[str]:
    return WORD.findall((text or "").lower())


def stems(text: str | None) -> list[str]:
    return [stem_word(word) for word in words(text)]


def stem_text(text: str | None, language: str | None = None) -> str:
    """``text`` as space-separated stems (``language`` is not needed: each word is stemmed by its script)."""
    return " ".join(stems(text))


def stem_query(query: str | None) -> str:
    """An FTS5 query for ``article_search_fts``: every word of ``query``, stemmed, must occur.

    An empty query becomes a phrase that matches nothing (FTS5 rejects an empty MATCH).
    """
    terms = dict.fromkeys(stems(query))
    if not terms:
        return '"\u2400"'
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def search_snippet(text: str | None, query: str | None, width: int = 30) -> str:
    """About ``width`` words of ``text`` around the best cluster of words whose stem is in ``query``'s,
    those words wrapped in ``<mark>``...``</mark>`` (the plugin renders them as HTML; the text is escaped).
    """
    if not text:
        return ""
    wanted = set(stems(query))
    tokens = re.split(r"(\s+)", text.replace("\n\n", " ¶ ").strip())  # words at even indexes
    hits = [i for i in range(0, len(tokens), 2)
            if wanted and any(stem_word(w) in wanted for w in words(tokens[i]))]
    start = 0
    if hits:
        best = max(hits, key=lambda h: sum(1 for other in hits if h <= other < h + 2 * width))
        start = max(0, best - width // 2 * 2)  # about width/2 words before the first hit
    end = min(len(tokens), start + 2 * width)
    pieces, hit_set = [], set(hits)
    for i in range(start, end):
        token = tokens[i]
        if i in hit_set:
            token = re.sub(r"\w+", lambda m: f"<mark>{m.group(0)}</mark>"
                           if stem_word(m.group(0).lower()) in wanted else m.group(0), token)
        pieces.append(token)
    return ("…" if start > 0 else "") + "".join(pieces) + ("…" if end < len(tokens) else "")


# -- the refresh ----------------------------------------------------------------------------------


def refresh(db: sqlite_utils.Database | str | Path, path: str | Path | None = None,
            write_metadata: bool = True) -> dict:
    """Bring the analysis layer of the archive up to date; returns what it did and how long it took.

    ``db`` is an open archive (``Archive.db``) or a path; ``path`` is the database file
    (for ``metadata.json``; taken from ``db`` when it is a path).
    """
    if not isinstance(db, sqlite_utils.Database):
        path = path or db
        db = sqlite_utils.Database(str(db))
    started = time.perf_counter()
    report: dict = {}
    ensure(db)
    report["stemmed"] = update_stems(db)
    report["translations"] = update_translations(db)
    db.execute("PRAGMA optimize")
    if write_metadata and path and str(path) != ":memory:":
        report["metadata"] = str(write_metadata_file(db, Path(path)))
        write_settings_file(Path(path))
    report["seconds"] = round(time.perf_counter() - started, 3)
    logger.info("Analysis layer refreshed in %.2fs: %d articles stemmed, %d translation links",
                report["seconds"], report["stemmed"], report["translations"])
    return report


def ensure(db: sqlite_utils.Database) -> None:
    """Create what the analysis layer needs, or what an older archive lacks."""
    from .schema import ensure_schema

    if not db["articles"].exists():
        ensure_schema(db)
    columns = {row[1] for row in db.execute("PRAGMA table_xinfo(articles)")}
    if "published_year" not in columns:
        db.execute("ALTER TABLE articles ADD COLUMN published_year INTEGER "
                   "GENERATED ALWAYS AS (CAST(substr(published, 1, 4) AS INTEGER)) VIRTUAL")
    if not db["translations"].exists():
        db["translations"].create({"article_id": int, "translation_id": int, "language": str, "method": str},
                                  pk=("article_id", "translation_id"),
                                  foreign_keys=[("article_id", "articles", "id"),
                                                ("translation_id", "articles", "id")])
    if not db["article_search"].exists():
        db["article_search"].create({"article_id": int, "language": str, "stems": str, "content_hash": str,
                                     "stemmer": str}, pk="article_id",
                                    foreign_keys=[("article_id", "articles", "id")])
    _articles_fts(db)
    search_fts = db["article_search_fts"]
    if not search_fts.exists() or TOKENIZE not in (search_fts.schema or ""):
        db["article_search"].enable_fts(["stems"], tokenize=TOKENIZE, create_triggers=True, replace=True)
    for table, columns in INDEXES:
        db[table].create_index(columns, if_not_exists=True)


def _articles_fts(db: sqlite_utils.Database) -> None:
    """FTS5 on articles (title, text), by sqlite-utils, with triggers that ignore ``last_seen`` updates."""
    fts = db["articles_fts"]
    if fts.exists() and TOKENIZE in (fts.schema or ""):
        return
    for trigger in ("articles_fts_ai", "articles_fts_ad", "articles_fts_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    if fts.exists():
        db["articles"].disable_fts()
    db["articles"].enable_fts(["title", "text"], tokenize=TOKENIZE, create_triggers=False)  # also populates it
    db.executescript("""
        CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
          INSERT INTO articles_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
        END;
        CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
          INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
        END;
        CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, text ON articles BEGIN
          INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
          INSERT INTO articles_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
        END;
    """)


def update_stems(db: sqlite_utils.Database) -> int:
    """Stem the articles that are new or changed since the last refresh; drop the rows of deleted ones."""
    stale = db.execute(
        "SELECT a.id, a.language, a.title, a.text, a.content_hash FROM articles a "
        "LEFT JOIN article_search s ON s.article_id = a.id "
        "WHERE s.article_id IS NULL OR s.content_hash IS NOT a.content_hash OR s.stemmer IS NOT ?",
        [STEMMER_VERSION]).fetchall()
    with db.atomic():
        db.execute("DELETE FROM article_search WHERE article_id NOT IN (SELECT id FROM articles)")
        if stale:
            db["article_search"].upsert_all(
                ({"article_id": id_, "language": language, "stems": stem_text(title) + "\n" + stem_text(text),
                  "content_hash": content_hash, "stemmer": STEMMER_VERSION}
                 for id_, language, title, text, content_hash in stale),
                pk="article_id")
    return len(stale)


def _image_names(db: sqlite_utils.Database) -> dict[int, set[str]]:
    names: dict[int, set[str]] = defaultdict(set)
    for article_id, src in db.execute("SELECT article_id, src FROM images"):
        name = unquote(urlsplit(src or "").path.rsplit("/", 1)[-1]).lower()
        if name:
            names[article_id].add(name)
    return names


def find_translations(db: sqlite_utils.Database) -> list[tuple[int, int, str]]:
    """Pairs ``(a, b, method)`` of articles in different languages that are one item.

    Strongest signal: the same path (and query) on two hosts, one article per language. For the
    articles left: the same published date and at least one image file name in common, and no
    other candidate in that language on either side. Never pairs two articles of one language.
    """
    # Canonical URLs are absolute ("scheme://host/path?query"): split in SQL, 10x faster than urlsplit.
    rows = db.execute("SELECT id, url, language, published, substr(url, 1, instr(substr(url, 9), '/') + 7), "
                      "substr(url, instr(substr(url, 9), '/') + 8) FROM articles WHERE language IS NOT NULL "
                      "AND url LIKE '%://%/%'").fetchall()
    articles = {id_: (url, language, published) for id_, url, language, published, _, _ in rows}
    pairs: list[tuple[int, int, str]] = []
    paired: set[int] = set()

    def pair_up(groups, method):
        for members in groups.values():
            by_language = defaultdict(list)
            for id_ in members:
                if id_ not in paired:
                    by_language[articles[id_][1]].append(id_)
            singles = sorted(ids[0] for ids in by_language.values() if len(ids) == 1)
            for i, a in enumerate(singles):
                for b in singles[i + 1:]:
                    pairs.append((a, b, method))
            paired.update(singles if len(singles) > 1 else ())

    by_path = defaultdict(list)
    hosts = defaultdict(set)
    for id_, _, _, _, host, path in rows:
        by_path[path].append(id_)
        hosts[path].add(host)
    pair_up({key: ids for key, ids in by_path.items() if len(ids) > 1 and len(hosts[key]) > 1}, "same path")

    by_date_image = defaultdict(set)
    for id_, names in _image_names(db).items():
        if id_ in articles and id_ not in paired and articles[id_][2]:
            for name in names:
                by_date_image[(articles[id_][2][:10], name)].add(id_)
    candidates: dict[int, set[int]] = defaultdict(set)
    for ids in by_date_image.values():
        for a in ids:
            candidates[a].update(b for b in ids if articles[b][1] != articles[a][1])
    groups = {}
    for a, others in candidates.items():
        for b in others:
            # Unique both ways within that language: a's only candidate in b's language, and vice versa.
            if (sum(1 for o in others if articles[o][1] == articles[b][1]) == 1
                    and sum(1 for o in candidates[b] if articles[o][1] == articles[a][1]) == 1 and a < b):
                groups[(a, b)] = [a, b]
    pair_up(groups, "same date and images")
    return pairs


def update_translations(db: sqlite_utils.Database) -> int:
    pairs = find_translations(db)
    language = dict(db.execute("SELECT id, language FROM articles"))
    rows = []
    for a, b, method in pairs:
        rows.append({"article_id": a, "translation_id": b, "language": language[b], "method": method})
        rows.append({"article_id": b, "translation_id": a, "language": language[a], "method": method})
    with db.atomic():
        db.execute("DELETE FROM translations")
        if rows:
            db["translations"].insert_all(rows)
    return len(rows)


# -- Datasette metadata ---------------------------------------------------------------------------

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
    """``{table: {column: comment}}`` from the comments of :mod:`archiver.schema` (``"col": type,  # comment``):
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
    from .profiles import profile_for_url

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


def refresh_quietly(db, path) -> dict | None:
    """:func:`refresh` for the end of a crawl: a failure is logged, never raised (the crawl's work is done)."""
    try:
        return refresh(db, path)
    except Exception:  # noqa: BLE001 - the analysis layer must never cost the crawl its result
        logger.exception("Could not refresh the analysis layer (search, translations, metadata) of %s", path)
        return None


def explore_command(arguments) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = Path(arguments.db or os.environ.get("ARCHIVE_DB") or "data/archive.db")
    if not path.exists():
        print(f"archiver explore: no archive at {path}", file=sys.stderr)
        return 2
    report = refresh(path)
    print(f"{path}: {report['stemmed']} articles stemmed, {report['translations']} translation links, "
          f"metadata in {report.get('metadata')} ({report['seconds']}s). Now: datasette {path.parent}/")
    return 0


def add_commands(commands) -> None:
    """``archiver explore``: the refresh a crawl run ends with, now (an archive made by an older archiver)."""
    parser = commands.add_parser("explore", help="refresh the archive's search index, translations and "
                                                 "Datasette metadata (every crawl run does it at its end)")
    parser.add_argument("--db", help="the archive (default: $ARCHIVE_DB or data/archive.db)")
    parser.set_defaults(run=explore_command)
