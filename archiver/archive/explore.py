"""The archive's analysis layer: what Datasette and analysts need beyond the crawler's tables.

:func:`refresh` runs at the end of every crawl run (:mod:`archiver.crawl.runs`) and
after ``archiver ingest`` wrote a burst of items (:mod:`archiver.cluster.addon`). It
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
  over it. Stems need Python, so triggers cannot make them: a crawl stores each
  article's stems with it (made where the page is extracted, on every core:
  :mod:`archiver.archive.stemming`), and the refresh stems what is still missing or
  stale (an older archive, another writer, a new stemmer version), only for
  articles whose ``content_hash`` changed. The ``search`` canned query
  stems the user's query the same way (SQL functions ``stem_query`` and
  ``search_snippet`` from :mod:`archiver.archive.datasette_plugin`), so ``терроризма``
  finds an article saying ``терроризму``, and ``meetings`` one saying ``meeting``.
  (A stemmer folds inflections, not derivations: ``обсуждали`` and ``обсудили`` stay apart.)
- ``translations``: the English and Russian versions of one item, linked both
  ways (``method``: ``same path`` on both hosts, else ``same date and images``).
  Rebuilt from scratch on each refresh (one pass over ``articles`` and ``images``).
- ``articles.published_year``: a virtual generated column, for the year facet.
- Indexes for the columns analysts filter and sort by.
- ``metadata.json`` next to the database: the Datasette metadata (titles,
  descriptions, column descriptions, facets, sort, labels, canned queries, and the
  charts of the datasette-dashboards plugin), so ``datasette data/``
  (configuration-directory mode) shows it all with no flag; the pages themselves
  (an article's page, the articles list) are :mod:`archiver.archive.datasette_plugin`'s.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote, urlsplit

import sqlite_utils

from .datasette_metadata import write_metadata_file, write_settings_file
from .stemming import STEMMER_VERSION, article_stems, stem_word, stems, words

logger = logging.getLogger(__name__)

TOKENIZE = "unicode61 remove_diacritics 2"
INDEXES = [
    ("articles", ["language", "published"]),
    ("articles", ["section", "language", "published"]),
    ("articles", ["published_year"]),
    ("articles", ["image_count"]),
    ("article_versions", ["superseded_at"]),
    ("translations", ["translation_id"]),
]


# -- search queries (the Datasette plugin's SQL functions; the query is stemmed like the documents) --


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

    if not db["articles"].exists() or not db["article_search"].exists():
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
                ({"article_id": id_, "language": language, "stems": article_stems(title, text),
                  "content_hash": content_hash, "stemmer": STEMMER_VERSION}
                 for id_, language, title, text, content_hash in stale),
                pk="article_id")
    return len(stale)


def _image_names(db: sqlite_utils.Database, wanted: set[int]) -> dict[int, set[str]]:
    """The image file names (decoded, lower-cased) of the ``wanted`` articles."""
    names: dict[int, set[str]] = defaultdict(set)
    if not wanted:  # every article paired by its path: no image to read
        return names
    for article_id, src in db.execute("SELECT article_id, src FROM images"):
        if article_id in wanted:
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
    # Only articles left unpaired, with a date, need their images' names (none when every path matched).
    unpaired = {id_ for id_, (_, _, published) in articles.items() if id_ not in paired and published}
    for id_, names in _image_names(db, unpaired).items():
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
    """Bring ``translations`` in line with :func:`find_translations`; returns the number of links.

    Only the links that changed are written: an unchanged archive's refresh writes nothing here.
    """
    language = dict(db.execute("SELECT id, language FROM articles"))
    wanted = set()
    for a, b, method in find_translations(db):
        wanted.add((a, b, language[b], method))
        wanted.add((b, a, language[a], method))
    stored = set(db.execute("SELECT article_id, translation_id, language, method FROM translations"))
    gone, new = stored - wanted, wanted - stored
    if gone or new:
        with db.atomic():
            db.conn.executemany("DELETE FROM translations WHERE article_id = ? AND translation_id = ?",
                                [(a, b) for a, b, _, _ in gone])
            db["translations"].insert_all(
                {"article_id": a, "translation_id": b, "language": lang, "method": method}
                for a, b, lang, method in sorted(new))
    return len(wanted)


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
