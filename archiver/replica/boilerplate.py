"""Visible text of an article page that is not the article, per flavour: the ground truth's boilerplate lines.

Kept apart from the pages modules, which render these texts, so that the site model's ground truth does not
depend on its renderers.
"""

from __future__ import annotations

from . import texts, variant
from .model import Article, format_date
from .variant import UI as VUI


def classic_lines(site, art: Article) -> list[str]:
    """Visible text of an article page that is not the article (`site` is the ReplicaSite)."""
    ui = texts.UI[art.language]
    lines = [ui[k] for k in ("go_back", "back_section", "back_all", "other_news", "share", "print", "address",
                             "copyright", "rights", "updated", "partners", "follow", "org")]
    lines += [label for _, label in ui["menu"]]
    lines += [site.teaser(o) for o in site.sidebar(art, art.language)]
    return lines


def crumb_texts(lang: str, section: str | None) -> list[str]:
    """The variant flavour's breadcrumb labels."""
    ui = texts.UI[lang]
    named = section and section != texts.HOME_ONLY_SECTION  # a section no breadcrumb names (replica/announcements.py)
    return [ui["home"], ui["news"]] + ([texts.SECTION_TITLES[section][lang]] if named else [])


def variant_lines(site, art: Article) -> list[str]:
    """Visible text of a variant article page that is not the article (as whole lines and their parts)."""
    ui, vui = texts.UI[art.language], VUI[art.language]
    lines = [ui[k] for k in ("address", "copyright", "rights", "updated", "partners", "follow", "org")]
    lines += [label for _, label in ui["menu"]] + [vui[k] for k in ("more_news", "share", "print", "archive")]
    back = variant.back_texts(art)
    lines += list(back) + [" | ".join(back)]
    crumbs = crumb_texts(art.language, art.sections[0])
    lines += [vui["sep"].strip().join(crumbs), vui["sep"].join(crumbs)]
    if variant.shown_date(art):
        lines.append(variant.shown_date(art))
    tag_words = variant.tags(art)
    lines += [f'{vui["tags"]} {", ".join(tag_words)}', vui["tags"]]
    if variant.read_also(site, art):
        lines += [variant.read_also_line(site, art), vui["read_also"]]
        lines += [o.shown_title for o in variant.read_also(site, art)]
    for o in site.sidebar(art, art.language):
        lines += [format_date(o.published, art.language), site.teaser(o), o.shown_title]
    return lines
