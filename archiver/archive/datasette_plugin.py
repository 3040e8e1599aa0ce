"""Datasette plugin of the archive, loaded by Datasette through this package's ``datasette`` entry point.

Installing archiver with Datasette in the same environment (``pip install -e '.[datasette]'``) is all it
takes: ``datasette data/`` loads it, no ``--plugins-dir`` or ``--template-dir`` needed. It gives:

- SQL functions for the ``search`` canned query, computed exactly as the archive is stemmed
  (:mod:`archiver.archive.stemming`): ``stem(text)`` / ``stem(text, language)``, ``stem_query(query)``,
  ``search_snippet(text, query)``; the ``<mark>`` of snippets shown as highlights, and the ``article`` column of
  query results linked to the article's page.
- Pages (templates in ``archiver/archive/templates``): an article's page (:mod:`archiver.archive.article_page`)
  in place of its one-row table; the ``articles`` table as a readable list; an example query that returns rows
  and a link to the charts on the database page. Other databases' pages are Datasette's own.
- Read-only routes: ``/-/archiver/media/DB/images|documents/ID`` (a downloaded file from the media store) and
  ``/-/archiver/capture/DB/ID`` (what ``archiver show ID`` prints).
- An archive with no article yet (a first crawl that fetched nothing) is hidden until a crawl stores one.
- A database file replaced while Datasette runs (``archiver demo`` deletes and re-creates ``data/demo.db``) is
  read anew: Datasette keeps one connection per thread open, which would go on reading the deleted file.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import urllib.parse
from pathlib import Path

from datasette import hookimpl
from datasette.utils import tilde_decode
from datasette.utils.asgi import NotFound, Response
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup, escape

from . import article_page, explore, schema, stemming
from .datasette_reopen import reopen_when_replaced

TEMPLATES = Path(__file__).parent / "templates"
REPLAY_ENV = "ARCHIVER_REPLAY_URL"
# Columns the articles list shows unless the URL chooses others (?_col=, ?_nocol=): date and section first.
LIST_COLUMNS = ("published", "section", "language", "title", "text", "image_count", "id")
LIST_TEXT_CHARACTERS = 160
EXAMPLE_SQL = "select published, language, section, title from articles order by published desc limit 20"


@hookimpl
def prepare_connection(conn):
    conn.create_function("stem", 1, stemming.stem_text, deterministic=True)
    conn.create_function("stem", 2, stemming.stem_text, deterministic=True)
    conn.create_function("stem_query", 1, explore.stem_query, deterministic=True)
    conn.create_function("search_snippet", 2, explore.search_snippet, deterministic=True)


@hookimpl
def prepare_jinja2_environment(env, datasette):
    """Our templates after the user's own (``--template-dir``, ``templates/`` in the configuration directory)."""
    own = [FileSystemLoader(datasette.template_dir)] if datasette.template_dir else []
    env.loader = ChoiceLoader([*own, FileSystemLoader(str(TEMPLATES)), env.loader])


@hookimpl
def startup(datasette):
    for database in datasette.databases.values():
        if database.path and database.is_mutable:
            reopen_when_replaced(datasette, database)


@hookimpl
def render_cell(value, column, table, database, datasette):
    if table is not None:
        return None
    if column == "snippet" and isinstance(value, str) and "<mark>" in value:
        html = str(escape(value)).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")
        return Markup(html)
    if column == "article" and isinstance(value, int):  # the canned queries' article id: link its row page
        return Markup('<a href="{}">{}</a>'.format(escape(datasette.urls.row(database, "articles", value)), value))
    return None


# -- hiding an empty archive ----------------------------------------------------------------------


@hookimpl
def permission_allowed(datasette, actor, action, resource):
    if action != "view-database" or not isinstance(resource, str) or resource not in datasette.databases:
        return None

    async def empty_archive_hidden():
        database = datasette.get_database(resource)
        if database.is_memory:
            return None
        empty = await database.execute_fn(
            lambda conn: article_page.is_archive(conn) and not article_page.has_articles(conn))
        return False if empty else None

    return empty_archive_hidden


# -- page variables -------------------------------------------------------------------------------


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if database is None or database not in datasette.databases or request is None:
        return {}

    async def variables():
        db = datasette.get_database(database)
        if not await db.execute_fn(article_page.is_archive):
            return {}
        if view_name == "row" and table == "articles":
            return {"archiver_article": await _article(datasette, db, request)}
        if view_name == "table" and table == "articles":
            return {"archiver_articles": ArticlesList(datasette, database, request)}
        if view_name == "database":
            charts = datasette.urls.path(f"/-/dashboards/{urllib.parse.quote(database)}")
            return {"archiver_database": {"example_sql": EXAMPLE_SQL, "charts": charts}}
        return {}

    return variables


async def _article(datasette, db, request) -> dict | None:
    pks = tilde_decode(request.url_vars.get("pks", ""))
    if not pks.isdigit():
        return None
    links = article_page.Links(
        article=lambda id_: datasette.urls.row(db.name, "articles", id_),
        media=lambda table, id_: datasette.urls.path(f"/-/archiver/media/{db.name}/{table}/{id_}"),
        capture=lambda id_: datasette.urls.path(f"/-/archiver/capture/{db.name}/{id_}"),
        replay=_replay_link(datasette))
    return await db.execute_fn(lambda conn: article_page.article(conn, int(pks), db.path, links))


def replay_base(datasette) -> str | None:
    """The replay base URL (a pywb collection, ``http://localhost:8080/csto/``): the ``archiver`` plugin's
    ``replay_url`` in metadata.json, else ``$ARCHIVER_REPLAY_URL``; None when neither is set."""
    base = (datasette.plugin_config("archiver") or {}).get("replay_url") or os.environ.get(REPLAY_ENV)
    if not base:
        return None
    return base if base.endswith("/") else base + "/"


def _replay_link(datasette):
    base = replay_base(datasette)
    if base is None:
        return None
    return lambda url, timestamp: f"{base}{timestamp}/{url}"


class ArticlesList:
    """The ``articles`` table as a list people read: date and section first, the text cut short, the headline
    linking the article's page, short column descriptions shown and the full ones on hover."""

    def __init__(self, datasette, database: str, request):
        self.datasette, self.database, self.request = datasette, database, request
        self.chosen = any(key in request.args for key in ("_col", "_nocol"))
        declared = schema.table("articles")
        self.full = {column.name: schema.plain(column.description) for column in declared.columns}
        self.short = {column.name: column.label for column in declared.columns}

    def columns(self, display_columns: list[dict]) -> list[dict]:
        """The columns to show, in order: the list's own unless the URL chose some."""
        by_name = {column["name"]: column for column in display_columns}
        order = [name for name in LIST_COLUMNS if name in by_name]
        if self.chosen:
            order += [name for name in by_name if name not in order]
        return [by_name[name] for name in order]

    def rows(self, display_rows, columns: list[dict]) -> list[list[dict]]:
        wanted = [column["name"] for column in columns]
        shaped = []
        for row in display_rows:
            cells = {cell["column"]: cell for cell in row}
            article_id = cells["id"]["raw"] if "id" in cells else None
            shaped.append([self._cell(cells[name], article_id) for name in wanted if name in cells])
        return shaped

    def _cell(self, cell: dict, article_id) -> dict:
        raw = cell["raw"]
        if cell["column"] == "title" and article_id is not None and raw:
            href = self.datasette.urls.row(self.database, "articles", article_id)
            return {**cell, "value": Markup('<a href="{}">{}</a>').format(href, raw)}
        if cell["column"] == "text" and isinstance(raw, str) and len(raw) > LIST_TEXT_CHARACTERS:
            cut = raw[:LIST_TEXT_CHARACTERS].rsplit(" ", 1)[0]
            return {**cell, "value": re.sub(r"\s+", " ", cut) + " …"}
        return cell

    def hidden_count(self, display_columns: list[dict]) -> int:
        return len(display_columns) - len(self.columns(display_columns))

    def all_columns_url(self, display_columns: list[dict]) -> str:
        args = [(key, value) for key in self.request.args if key not in ("_col", "_nocol", "_next")
                for value in self.request.args.getlist(key)]
        args += [("_col", column["name"]) for column in display_columns if not column.get("is_pk")]
        return self.datasette.urls.table(self.database, "articles") + "?" + urllib.parse.urlencode(args)


# -- read-only routes: media files and raw captures ----------------------------------------------


@hookimpl
def register_routes():
    return [
        (r"^/-/archiver/media/(?P<database>[^/]+)/(?P<table>images|documents)/(?P<id>\d+)$", media_file),
        (r"^/-/archiver/capture/(?P<database>[^/]+)/(?P<id>\d+)$", raw_capture),
    ]


async def _database(datasette, request, table: str):
    name = tilde_decode(request.url_vars["database"])
    if name not in datasette.databases:
        raise NotFound(f"No database {name}")
    await datasette.ensure_permissions(request.actor, [("view-table", (name, table)), ("view-database", name),
                                                       "view-instance"])
    return datasette.get_database(name)


async def media_file(datasette, request):
    """A downloaded image or document, from the media store next to the archive (its row says where)."""
    table = request.url_vars["table"]
    db = await _database(datasette, request, table)
    rows = (await db.execute(f"SELECT path, sha256, content_type FROM {table} WHERE id = ?",
                             [int(request.url_vars["id"])])).rows
    if not rows or not rows[0]["path"] or not rows[0]["sha256"]:
        raise NotFound("No downloaded file for this row")
    path, sha256, content_type = rows[0]["path"], rows[0]["sha256"], rows[0]["content_type"] or ""
    file = Path(path) if Path(path).is_absolute() else Path(db.path).parent / path
    if file.name.split(".")[0] != sha256 or not file.is_file():  # only the content-addressed file it names
        raise NotFound("The downloaded file is missing from the media store")
    content_type = content_type.split(";")[0].strip().lower()
    inline = content_type.startswith("image/") or content_type == "application/pdf"
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "max-age=31536000, immutable"}
    if not inline:
        headers["Content-Disposition"] = "attachment"
    body = await asyncio.get_running_loop().run_in_executor(None, file.read_bytes)
    return Response(body, content_type=content_type if inline else "application/octet-stream", headers=headers)


async def raw_capture(datasette, request):
    """What ``archiver show ID --db PATH`` prints: the WARC location, the HTTP headers, the body (decoded)."""
    db = await _database(datasette, request, "articles")
    command = [sys.executable, "-m", "archiver.cli", "show", request.url_vars["id"], "--db", str(db.path)]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    if process.returncode != 0:
        return Response.text(err.decode("utf-8", "replace") or "archiver show failed", status=404)
    return Response(out, content_type="text/plain; charset=utf-8", headers={"X-Content-Type-Options": "nosniff"})
