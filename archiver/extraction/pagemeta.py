"""The page's metadata the article takes from trafilatura's readers, and nothing more.

trafilatura's metadata pass (``with_metadata=True``) also reads the site's name, the categories, tags, licence
and canonical URL, which the article takes elsewhere or not at all, and it runs htmldate on every page. The
article needs trafilatura's title, author and description, read here by the same functions in the same order,
and htmldate's date only as the last resort (the page declares no date and shows none by its headline), so
that date is looked for only then: most pages never need it.
"""

from __future__ import annotations

import logging

LOGGER = logging.getLogger(__name__)


def read(tree) -> dict:
    """trafilatura's ``title``, ``author`` and ``description`` of the page (``None`` where it finds none)."""
    from trafilatura import metadata as readers

    found = readers.examine_meta(tree)
    if found.author and " " not in found.author:  # a one-word author in the page's meta tags is a handle
        found.author = None
    try:
        found = readers.extract_meta_json(tree, found)
    except Exception as error:  # trafilatura's JSON-LD reader fails on some malformed data: as it does itself
        LOGGER.debug("JSON-LD metadata not read: %s", error)
    if not found.title:
        found.title = readers.extract_title(tree)
    if not found.author:
        found.author = readers.extract_author(tree)
    found.clean_and_trim()
    return {"title": found.title, "author": found.author, "description": found.description}


def find_date(tree, url: str) -> str | None:
    """htmldate's date of the page, with the settings trafilatura's metadata pass gives it."""
    from htmldate import find_date as htmldate_find_date
    from trafilatura.metadata import extract_url
    from trafilatura.settings import DEFAULT_CONFIG, set_date_params

    settings = set_date_params(DEFAULT_CONFIG.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH"))
    settings["url"] = extract_url(tree, url)
    return htmldate_find_date(tree, **settings)
