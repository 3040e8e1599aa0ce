"""A page's links: absolute URLs, the table of its anchors, the links a reader follows (by their text or
their target), and the navigation links that extraction removes from an article."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

from w3lib.url import safe_url_string

from .htmltree import drop, per_tree
from .normalize import SAFE_URL, canonical_url, clean_line
from ..profiles import SiteProfile, fold_text

# Hrefs that lead to no page (scripts, other protocols, the page itself): lower-cased prefixes.
UNFOLLOWABLE_SCHEMES = ("javascript:", "mailto:", "tel:", "sms:", "callto:", "skype:", "whatsapp:", "viber:",
                        "data:", "ftp:", "file:", "#")


# Documents an article links to, archived with it (see images.document_links) and never crawled as pages.
DOCUMENT_TYPES = r"pdf|docx?|xlsx?|pptx?|odt|ods|odp|rtf|djvu|epub"
# Documents and media that are never crawled as pages.
NON_PAGE_EXTENSIONS = re.compile(
    rf"\.({DOCUMENT_TYPES}|txt|csv|xml|json|zip|rar|7z|gz|tgz|bz2|xz|tar|exe|msi|dmg|apk|"
    r"jpe?g|png|gif|bmp|tiff?|webp|svg|ico|heic|mp3|wav|ogg|flac|m4a|mp4|avi|mov|wmv|mkv|webm|flv|swf|"
    r"css|js|woff2?|ttf|eot)$",
    re.IGNORECASE,
)


def is_document_url(url: str) -> bool:
    """A link to a document or media file, not a page."""
    return bool(NON_PAGE_EXTENSIONS.search(urlsplit(url).path))


def followable(href: str) -> bool:
    """An href (stripped) that leads to a page: not empty, not a script, another protocol or the page itself."""
    return bool(href) and not href.lower().startswith(UNFOLLOWABLE_SCHEMES)


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def absolute_url(base: str, href: str) -> str:
    href = href.strip()
    if "\\" in href:  # browsers read a backslash in an http(s) URL as a slash (WHATWG URL standard)
        href = href.replace("\\", "/")
    # Cache by what the result depends on: pages link to the same URLs in relative
    # form ("/news/..."), and keyed by each page's own URL every page would miss.
    if href.startswith(("http://", "https://")):
        base = ""
    elif href.startswith("/"):
        if not href.startswith("//"):
            base = _site_root(base)
    else:
        # An href with a scheme other than the base's ("mailto:", "tel:", "javascript:") is left as it is.
        scheme = _SCHEME.match(href)
        if scheme and not base.lower().startswith(scheme.group().lower()):
            base = ""
    return _absolute_url(base, href)


@lru_cache(maxsize=256)
def _site_root(base: str) -> str:
    """``scheme://host/`` of a base URL: what a root-relative href ("/news/...") resolves against."""
    return "/".join(base.split("/", 3)[:3]) + "/"


@lru_cache(maxsize=1 << 14)
def _absolute_url(base: str, href: str) -> str:
    try:
        url = urljoin(base, href)
        return url if SAFE_URL.match(url) else safe_url_string(url)
    except ValueError:  # a port out of range, a broken IPv6 address: a link to nothing, as an empty href
        return ""


class Anchor(NamedTuple):
    """One link of a page, read once: several passes (link discovery, teasers, the section,
    classification) each need its address and text."""

    element: object
    tag: str  # "a" or "area"
    href: str  # as written, stripped
    url: str  # absolute (against the page's base); "" when the href is empty
    text: str  # its text, whitespace collapsed
    followable: bool  # its href leads to a page (see followable())


def anchors(tree, base: str) -> list[Anchor]:
    """Every ``<a>`` and ``<area>`` with an ``href`` in ``tree``, in document order.

    Built once per tree and base, then shared (see :func:`per_tree`).
    """
    return per_tree(tree, ("anchors", base), lambda: _anchors(tree, base))


def _anchors(tree, base: str) -> list[Anchor]:
    table = []
    for element in tree.iter("a", "area"):
        href = element.get("href")
        if href is None:
            continue
        href = href.strip()
        # Most links hold their text only: read it directly (lxml's text_content() costs twice as much).
        text = (element.text or "") if len(element) == 0 else element.text_content()
        table.append(Anchor(element, element.tag, href, absolute_url(base, href) if href else "",
                            " ".join(text.split()), followable(href)))
    return table


def link_rel(tree, rel: str, base: str) -> str | None:
    for link in tree.iter("link"):
        if rel in (link.get("rel") or "").lower().split() and link.get("href"):
            return absolute_url(base, link.get("href"))
    return None


def same_host(a: str, b: str) -> bool:
    return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()


def path_of(url: str) -> str:
    return urlsplit(url).path


def url_depth(url: str) -> int:
    return len([s for s in path_of(url).split("/") if s])


def last_segment(url: str) -> str | None:
    segments = [s for s in path_of(url).split("/") if s]
    return segments[-1] if segments else None


def parent_url(url: str) -> str | None:
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2:
        return None
    return f"{parts.scheme}://{parts.netloc}/{'/'.join(segments[:-1])}/"


def is_ancestor_path(candidate: str, url: str) -> bool:
    """``candidate`` is a listing above ``url`` on the same host (``/news/`` above ``/news/a/b/``)."""
    if not same_host(candidate, url):
        return False
    parent, child = path_of(candidate), path_of(url)
    return parent != child and child.startswith(parent.rstrip("/") + "/")


def remove_navigation(scope, base: str, page_url: str, navigation_texts) -> None:
    """Drop standalone links that navigate away from the article, and blocks left empty.

    A link is navigation when it stands alone in its block (not inside a
    sentence) and its text is one the profile names ("Back to the section"),
    or it runs script (``javascript:history.back()``), or it points back up
    to a listing above the page.
    """
    page = canonical_url(page_url)
    for link in list(scope.iter("a")):
        if not stands_alone(link):
            continue
        href = (link.get("href") or "").strip()
        text = fold_text(link.text_content())
        is_navigation = text in navigation_texts or href.lower().startswith("javascript:")
        if not is_navigation and href and len(text) < 60:
            is_navigation = is_ancestor_path(canonical_url(absolute_url(base, href)), page)
        if not is_navigation:
            continue
        block = link.getparent()
        drop(link)
        # The block that held only navigation links goes too (no empty shells).
        while block is not None and block is not scope and not clean_line(block.text_content()) \
                and not block.xpath(".//img"):
            parent = block.getparent()
            drop(block)
            block = parent


LINK_SEPARATORS = re.compile(r"[\s|/·•,;:←→<>«»()\[\]-]+")


INLINE_WRAPPERS = {"b", "strong", "i", "em", "u", "span", "font", "small", "big", "mark"}


def stands_alone(link) -> bool:
    """No running text right before or after the link, nor around the inline
    element it is all of (``<strong><a>…</a></strong>``): it is not part of a sentence."""
    node = link
    while True:
        previous = node.getprevious()
        parent = node.getparent()
        before = previous.tail if previous is not None else (parent.text if parent is not None else "")
        if LINK_SEPARATORS.sub("", (before or "") + (node.tail or "")):
            return False
        if parent is None or not isinstance(parent.tag, str) or parent.tag.lower() not in INLINE_WRAPPERS \
                or len(parent) != 1:
            return True
        node = parent


def link_by_text(tree, base: str, texts) -> str | None:
    """The absolute target of the first link whose text is one of ``texts`` (folded)."""
    if not texts:
        return None
    for link in anchors(tree, base):
        if link.tag == "a" and link.followable and fold_text(link.text) in texts:
            return link.url
    return None


def link_text_to(tree, base: str, target: str, profile: SiteProfile) -> str | None:
    """The human name of ``target``: the text of a link to it that is not navigation wording."""
    for link in anchors(tree, base):
        if link.tag != "a" or not link.followable:
            continue
        text = clean_line(link.text)
        if text and fold_text(text) not in profile.navigation_texts and len(text) < 80 \
                and canonical_url(link.url, profile) == target:
            return text
    return None
