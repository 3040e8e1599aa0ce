"""Datasette metadata of an archive: titles, descriptions, column descriptions, facets, labels, canned queries.

Written next to the database by :func:`archiver.archive.explore.refresh` as ``metadata.json`` (and
``settings.json``), so that ``datasette data/`` (configuration-directory mode) shows it all with no flag.
Declarative: table and column descriptions come from :mod:`archiver.archive.schema` (declared there once);
a canned query is an entry in :data:`CANNED_QUERIES`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import sqlite_utils

from . import schema

METADATA_FILE = "metadata.json"
SETTINGS_FILE = "settings.json"
# Datasette settings written next to the archive unless already set there. Suggesting facets costs time
# per column on every table page, which grows with the archive (benchmarks/NOTES.md); the useful facets
# are configured instead.
SETTINGS = {"suggest_facets": False}

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


def column_descriptions(table: str) -> dict[str, str]:
    """``{column: description}`` of a table, as Datasette shows them: from :data:`archiver.archive.schema.TABLES`."""
    return {column.name: column.label for column in schema.table(table).columns}


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
    for table in schema.TABLES:
        if not db[table.name].exists():
            continue
        present = {row[1] for row in db.execute(f"PRAGMA table_xinfo([{table.name}])")}
        tables[table.name] = {"description": schema.plain(table.description),
                              "columns": {column: text for column, text in column_descriptions(table.name).items()
                                          if column in present}}
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
            # One address, the one the link opens (the description names every seed).
            "source": seeds[0] if seeds else (hosts[0] if hosts else None),
            "source_url": seeds[0] if seeds else None,
            "license": "The source site's terms (archived copy for research)",
            "tables": tables,
            "queries": _queries(name),
        }},
        "plugins": {"datasette-dashboards": {name: dashboard(name, site)} if count else {}},
    }


def _queries(name: str) -> dict:
    """The canned queries, ``articles_per_month`` pointing at its chart."""
    queries = {key: dict(query) for key, query in CANNED_QUERIES.items()}
    queries["articles_per_month"]["description_html"] = (
        f'The same counts drawn: <a href="/-/dashboards/{name}">the charts</a>.')
    return queries


def dashboard(name: str, site: str | None) -> dict:
    """A datasette-dashboards dashboard of the archive ``name``: articles per month by language, and per section.

    Vega-Lite charts drawn in the browser from the plugin's own copy of Vega (no network needed), as SVG:
    each bar is an element whose ``aria-label`` is the row's ``label``.
    """
    def chart(title: str, query: str, display: dict) -> dict:
        embed = {"usermeta": {"embedOptions": {"renderer": "svg", "actions": False}}}
        return {"title": title, "db": name, "query": query, "library": "vega-lite", "display": {**display, **embed}}

    language_filter = "[[ and language = :language ]]"
    return {
        "title": f"{site or 'News archive'} ({name}): charts",
        "description": "Articles per month by language, and per section. A chart's title opens it alone; "
                       "the numbers are the articles_per_month query's.",
        "layout": [["months"], ["sections"]],
        "filters": {"language": {"name": "Language", "type": "select", "db": name,
                                 "query": "select distinct language from articles where language is not null "
                                          "order by language"}},
        "charts": {
            "months": chart("Articles per month, by language", f"""select substr(published, 1, 7) || '-01' as month,
  language, count(*) as articles, substr(published, 1, 7) || ' ' || language || ': ' || count(*) as label
from articles where published is not null {language_filter}
group by 1, 2 order by 1, 2""", {
                "mark": {"type": "bar", "tooltip": True},
                "height": 260,
                "encoding": {
                    "x": {"field": "month", "type": "temporal", "timeUnit": "utcyearmonth", "title": "month"},
                    "y": {"field": "articles", "type": "quantitative", "aggregate": "sum", "title": "articles"},
                    "color": {"field": "language", "type": "nominal"},
                    "description": {"field": "label"},
                }}),
            "sections": chart("Articles per section, by language", f"""select coalesce(section, '(none)') as section,
  language, count(*) as articles, coalesce(section, '(none)') || ' ' || language || ': ' || count(*) as label
from articles where 1 = 1 {language_filter}
group by 1, 2 order by 3 desc""", {
                "mark": {"type": "bar", "tooltip": True},
                "encoding": {
                    "y": {"field": "section", "type": "nominal", "sort": "-x", "title": None},
                    "x": {"field": "articles", "type": "quantitative", "aggregate": "sum", "title": "articles"},
                    "color": {"field": "language", "type": "nominal"},
                    "description": {"field": "label"},
                }}),
        },
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
    dashboards = current.setdefault("plugins", {}).setdefault("datasette-dashboards", {})
    dashboards.pop(name, None)  # none for an archive with no article yet
    dashboards.update(fresh["plugins"]["datasette-dashboards"])
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


