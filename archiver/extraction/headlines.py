"""The article's headline as the page shows it.

Metadata titles (``og:title``, ``<title>``) are often shortened, rewritten for search engines, or carry the
site's name ("Headline | Site"); the headline readers see is the page's heading. But not every heading is the
headline: templates give the site's name an ``<h1>`` (its logo, a link to the home page), and a headline may
hold a kicker (an overline: "Climate: ..." set above it in small type), a subtitle or text hidden from sight
(a separator for screen readers), which are not part of it. So:

- a heading's text leaves out its kicker, subtitle, label and hidden parts (by their class or attributes)
  and any heading, date or script nested in it;
- headings that name the site (``og:site_name``, the host, or a heading that is a link to the home page)
  are not headlines;
- the headline is the ``<h1>`` that shows the metadata title (or its part without the site's name), else an
  ``<h2>``/``<h3>`` that does (templates that keep ``<h1>`` for a section), else the first ``<h1>``, else
  the metadata title without the site's name.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from . import htmltree
from .normalize import clean_line

# Class tokens (lower-cased) of the parts of a heading that are not its headline: a kicker above it, a
# subtitle, a label, a part hidden from sight. Matched inside BEM names too ("article-heading__kicker").
NOT_HEADLINE = re.compile(
    r"(^|[-_])(kicker|overline|over-line|dachzeile|topline|top-line|roofline|eyebrow|supertitle|super-title|"
    r"suptitle|surtitle|pretitle|pre-title|spitzmarke|subtitle|sub-title|subheadline|sub-headline|subhead|"
    r"standfirst|strapline|label|badge|visually-?hidden|sr-only|screen-reader-text|screenreader|hidden)($|[-_])")
SKIPPED_TAGS = {"h2", "h3", "h4", "h5", "h6", "time", "script", "style", "noscript", "template", "button", "svg"}
# What stands between a headline and the site's name in a title: "Headline | Site", "Site - Headline".
TITLE_SEPARATORS = re.compile(r"\s+(?:[|·•»«:~/]|::|[-–—])\s+")
MIN_MATCH = 15  # a title or heading shorter than this (the site's name, "News") says nothing of which is which


def headline_text(node) -> str:
    """The heading's text without its kicker, subtitle, labels, hidden parts and nested headings or dates;
    its whole text if that leaves nothing."""
    pieces, pending = [], [(node, True)]
    while pending:  # a stack of its own: no recursion on deep pages
        element, entering = pending.pop()
        if not entering:
            if element.tail:
                pieces.append(element.tail)
            continue
        if element is not node and _not_headline(element):
            if element.tail:
                pieces.append(element.tail)
            continue
        if element.tag == "br":
            pieces.append(" ")
        elif element.text:
            pieces.append(element.text)
        if element is not node:
            pending.append((element, False))
        pending.extend((child, True) for child in reversed(element))
        pieces.append(" " if element.tag in htmltree.BLOCK_TAGS and element is not node else "")
    text = clean_line("".join(pieces))
    return text or clean_line(node.text_content())


def _not_headline(element) -> bool:
    if not isinstance(element.tag, str) or element.tag in SKIPPED_TAGS:
        return True
    if element.get("aria-hidden") == "true" or element.get("hidden") is not None:
        return True
    if "display:none" in (element.get("style") or "").replace(" ", ""):
        return True
    return any(NOT_HEADLINE.search(token) for token in (element.get("class") or "").lower().split())


def fold(text: str) -> str:
    """A title as compared with another: case, dashes, quotes and final dots or ellipses set aside."""
    text = text.casefold().translate(_FOLDED)
    return " ".join(text.split()).rstrip(" .…")


_FOLDED = str.maketrans({"–": "-", "—": "-", "‒": "-", "‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"',
                         "„": '"', "«": '"', "»": '"', "&": "and", "\u00a0": " "})


def _letters(text: str) -> str:
    return re.sub(r"\W+", "", text.casefold())


class Site:
    """What names the site: its declared name and its host."""

    def __init__(self, tree, url: str):
        self.names = {_letters(name) for name in (htmltree.meta(tree, "og:site_name", "application-name"),)
                      if name} - {""}
        host = (urlsplit(url or "").hostname or "").lower()
        self.host = _letters(host)
        labels = [label for label in host.split(".") if label not in ("www", "m", "amp")]
        self.label = _letters(max(labels[:-1] or labels or [""], key=len))

    def named_by(self, text: str) -> bool:
        """``text`` is the site's name: its declared name, or part of its host ("MDR.DE", "Tages-Anzeiger")."""
        letters = _letters(text)
        if not letters:
            return False
        if letters in self.names or (len(letters) >= 3 and letters in self.host):
            return True
        return len(self.label) >= 4 and self.label in letters and len(text.split()) <= 4

    def is_site_heading(self, node, text: str, page_url: str) -> bool:
        """A heading naming the site, or a link to its home page (the logo's heading)."""
        if self.named_by(text):
            return True
        links = list(node.iter("a"))
        if len(links) == 1 and clean_line(links[0].text_content()) == text:
            href = (links[0].get("href") or "").strip()
            parts = urlsplit(href)
            same_site = not parts.netloc or _letters(parts.hostname or "") == self.host
            return same_site and parts.path in ("", "/") and not parts.query
        return False


def without_site(title: str, site: Site) -> str:
    """The title without the site's name at its start or end ("Headline | Site" gives "Headline")."""
    pieces = TITLE_SEPARATORS.split(title)
    kept = list(pieces)
    while len(kept) > 1 and site.named_by(kept[-1]):
        kept.pop()
    while len(kept) > 1 and site.named_by(kept[0]):
        kept.pop(0)
    if len(kept) == len(pieces):
        return title
    # Cut from the title itself: its own separators between the parts kept stay as they are.
    start = title.index(kept[0])
    return title[start:title.rindex(kept[-1]) + len(kept[-1])]


def title_parts(title: str, site: Site) -> list[str]:
    """The titles a headline may show: the metadata title, without the site's name, and each of its parts."""
    if not title:
        return []
    pieces = [piece for piece in TITLE_SEPARATORS.split(title) if len(piece) >= MIN_MATCH and not site.named_by(piece)]
    return list(dict.fromkeys([title, without_site(title, site), *pieces]))


def shows(heading: str, wanted: list[str]) -> bool:
    """The heading shows one of the wanted titles: the same, or one starts the other (a shortened title)."""
    folded = fold(heading)
    if not folded:
        return False
    for title in wanted:
        stem = fold(title)
        if stem == folded or len(stem) >= MIN_MATCH and folded.startswith(stem[:30]) \
                or len(folded) >= MIN_MATCH and stem.startswith(folded):
            return True
    return False


def best_title(tree, url: str, metadata_title: str | None, fallback: str | None = None) -> str | None:
    """The page's headline (see the module's doc); ``fallback``: another extractor's title, used when the
    page has no heading and no metadata title."""
    site = Site(tree, url)
    metadata_title = clean_line(metadata_title or "")
    wanted = title_parts(metadata_title, site)
    own = [text for text in (_heading(node, site, url) for node in tree.iter("h1")) if text]
    if wanted:
        for text in own:
            if shows(text, wanted):
                return text
        for node in tree.iter("h2", "h3"):
            text = _heading(node, site, url)
            if text and shows(text, wanted):
                return text
    if own:
        return own[0]
    bare = without_site(metadata_title, site) if metadata_title else ""
    if bare != metadata_title:
        return bare
    return clean_line(fallback or "") or metadata_title or None


def _heading(node, site: Site, url: str) -> str | None:
    text = headline_text(node)
    return None if not text or site.is_site_heading(node, text, url) else text


def headline_element(tree, title: str | None):
    """The heading that shows the title (an ``<h1>``, or an ``<h2>``/``<h3>`` on templates that keep
    ``<h1>`` for the site or the section), else the first ``<h1>``."""
    if title:
        for node in tree.iter("h1", "h2", "h3"):
            heading = headline_text(node)
            if heading and (heading == title or len(heading) >= MIN_MATCH and title.startswith(heading)):
                return node
    return next(tree.iter("h1"), None)
