"""The home pages' announcements box: the only way into the home-only section (``texts.HOME_ONLY_SECTION``).

The box shows the section's newest element; that element's "Back to the section" link is the only link to the
section's listing, which no menu, breadcrumb or all-news listing shows. A crawl seeded at ``/news/`` finds the
section only by reading the home page (a hub) and following the back-link, and it learns the section's title only
from the listing's ``<h1>``.
"""

from __future__ import annotations

from . import texts
from .markup import Ctx, esc

BOX_TITLE = {"en": "Announcements", "ru": "Анонсы"}


def home_box(ctx: Ctx) -> str:
    """The announcements box of the home page (empty on other pages, and when the section has no live element)."""
    if ctx.path != "/":
        return ""
    newest = next((a for a in ctx.site.articles(ctx.lang) if a.sections[0] == texts.HOME_ONLY_SECTION), None)
    if newest is None:
        return ""
    return (f'\n<div class="announcements"><div class="announcements__title">{BOX_TITLE[ctx.lang]}</div>'
            f'<a href="{newest.path}">{esc(newest.shown_title)}</a></div>')
