"""Datasette plugin of the archive, loaded by Datasette through this package's ``datasette`` entry point.

Installing archiver with Datasette in the same environment (``pip install -e '.[datasette]'``) is all it
takes: ``datasette data/`` loads it, no ``--plugins-dir`` needed. It gives every connection the SQL
functions the ``search`` canned query needs, computed exactly as the archive is stemmed
(:mod:`archiver.archive.stemming`), renders the ``<mark>`` of search snippets as highlights (the rest of the cell
escaped), and links the ``article`` column of query results to the article's page.

SQL functions: ``stem(text)`` / ``stem(text, language)`` (space-separated Snowball stems),
``stem_query(query)`` (an FTS5 query for ``article_search_fts``), ``search_snippet(text, query)``.
"""

from __future__ import annotations

from datasette import hookimpl
from markupsafe import Markup, escape

from . import explore, stemming


@hookimpl
def prepare_connection(conn):
    conn.create_function("stem", 1, stemming.stem_text, deterministic=True)
    conn.create_function("stem", 2, stemming.stem_text, deterministic=True)
    conn.create_function("stem_query", 1, explore.stem_query, deterministic=True)
    conn.create_function("search_snippet", 2, explore.search_snippet, deterministic=True)


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
