"""Page objects: what the spider needs to know of one response, as pure functions of it.

:class:`NewsPage` parses a page once and offers its article (see
:mod:`archiver.extraction.extract`) and its links, each classified for navigation.
The spider decides what to follow; this module only describes the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from urllib.parse import parse_qsl, urlsplit

from . import htmltree, hyperlinks
from .article import Article
from .charsets import Decoding, read_body
from .extract import extract_from_tree
from .hyperlinks import is_document_url  # noqa: F401  (the spider's test of a link's target, offered here)
from .images import document_links
from .normalize import canonical_url, find_dates, parse_date
from ..profiles import SiteProfile, load_profile


@dataclass(frozen=True)
class PageLink:
    url: str  # canonical absolute URL
    text: str
    is_pagination: bool
    looks_like_article: bool

    @property
    def is_headline(self) -> bool:
        """Links to articles carry their headline; "Previous day", "Next" or a date do not."""
        return self.looks_like_article and len(self.text) >= 15 and len(self.text.split()) >= 3


class NewsPage:
    """One fetched HTML page of a news site."""

    def __init__(self, url: str, body: str | bytes, profile: SiteProfile, content_type: str | bytes | None = None):
        """``body``: the page's bytes as served (decoded by ``content_type``'s charset unless they do not fit
        it, see :mod:`archiver.extraction.charsets`), or its text."""
        self.url, self.profile = url, profile
        self.html, self.decoding, self.problem = read_body(body, content_type, url)
        self.tree = None
        if not self.problem:
            self.tree, self.problem = htmltree.parse_page(self.html)

    @cached_property
    def base(self) -> str:
        """The URL relative links resolve against (``<base href>``, else the page's)."""
        return htmltree.base_url(self.tree, self.url)

    @cached_property
    def article(self) -> Article:
        if self.tree is None:
            return Article(url=canonical_url(self.url, self.profile), reason=self.problem)
        return extract_from_tree(self.tree, self.url, self.profile)

    @cached_property
    def documents(self) -> list[dict]:
        """Documents (PDF, DOC...) linked inside the article's container, else anywhere in the page."""
        if self.tree is None:
            return []
        return document_links(self.tree, self.url, self.profile.container_selectors)

    @cached_property
    def links(self) -> list[PageLink]:
        """Every distinct followable link of the page, canonicalized, in document order."""
        if self.tree is None:
            return []
        found: dict[str, PageLink] = {}
        pager_blocks: dict = {}
        marks = pager_marks(self.profile.pager_marks)
        for anchor in hyperlinks.anchors(self.tree, self.base):
            if not anchor.followable:
                continue
            url = canonical_url(anchor.url, self.profile)
            if not url.startswith(("http://", "https://")):
                continue
            text, element = anchor.text, anchor.element
            known = found.get(url)
            if known is not None:
                # A teaser links its picture and its headline: keep the headline.
                if len(text) > len(known.text):
                    found[url] = PageLink(url, text, known.is_pagination, known.looks_like_article)
                continue
            found[url] = PageLink(
                url=url,
                text=text,
                is_pagination=self.is_pagination_url(url) or in_pager(element, marked=pager_blocks, marks=marks),
                looks_like_article=self.profile.looks_like_article_url(url),
            )
        return list(found.values())

    def is_pagination_url(self, url: str) -> bool:
        if "?" not in url:  # most links: no query, no page parameter
            return False
        return any(self.profile.is_pagination_param(name) for name, _ in parse_qsl(urlsplit(url).query))

    @cached_property
    def teasers(self) -> dict[str, tuple[str, str | None]]:
        """Listing entries: article URL -> (headline, date) as the listing shows them."""
        if self.tree is None:
            return {}
        headlines = {link.url: link.text for link in self.links if link.is_headline}
        entries: dict[str, tuple[str, str | None]] = {}
        for anchor in hyperlinks.anchors(self.tree, self.base):
            if anchor.tag != "a" or not anchor.followable:
                continue
            url = canonical_url(anchor.url, self.profile)
            if url in headlines and url not in entries:
                entries[url] = (headlines[url], self._teaser_date(anchor.element, url))
        return entries

    def _teaser_date(self, link, url: str) -> str | None:
        """The date written in the teaser block around a headline link (the block holding only this article)."""
        block = link.getparent()
        for _ in range(4):
            if block is None:
                return None
            targets = {canonical_url(hyperlinks.absolute_url(self.url, a.get("href") or ""), self.profile)
                       for a in block.iter("a") if a.get("href")}
            if len(targets - {url}) > 1:
                return None  # the block holds other articles too: no date of its own
            found = self._block_date(block)
            if found:
                return found
            block = block.getparent()
        return None

    def _block_date(self, block) -> str | None:
        """A teaser's date: in an element of its own (``<time>``, a class naming a date) before any date its
        preview mentions; else the first in any one piece of its text (``text_content()`` glues
        "preview.</p><span>01.07.2020" into one word, where no date is found); else one split by markup."""
        read = lambda text: parse_date(text, self.profile.dayfirst, self.profile.date_formats)  # noqa: E731
        for node in block.iter():
            if isinstance(node.tag, str) and (node.tag == "time" or DATE_MARKS.search(
                    f"{node.get('class') or ''} {node.get('id') or ''}".lower())):
                found = read(node.get("datetime") or node.text_content())
                if found:
                    return found
        for piece in (*block.itertext(), block.text_content()):
            for candidate in find_dates(piece):
                found = read(candidate)
                if found:
                    return found
        return None



@dataclass
class PageSummary:
    """What the spider needs of a page, as plain data: it crosses process boundaries."""

    url: str
    problem: str | None
    article: Article
    links: list[PageLink]
    teasers: dict[str, tuple[str, str | None]]  # only for listings
    documents: list[dict] = field(default_factory=list)  # only for articles: [{"url", "text"}]
    # Only for articles: the stems of title and text for the archive's search. Extraction leaves it empty; the
    # crawl's extraction workers (archiver.crawl.workers) fill it, so that stems are made on every core.
    search_stems: str | None = None
    # How the page's bytes were read, when that is worth a log line: the declared charset did not fit them,
    # or no charset did (see archiver.extraction.charsets). None otherwise, and for a page given as text.
    decoding: Decoding | None = None

    @property
    def is_listing(self) -> bool:
        return self.article.reason == "listing page"


def summarize(url: str, body: str | bytes, profile: SiteProfile | str,
              content_type: str | bytes | None = None) -> PageSummary:
    """Parse and extract one page once: its article, links and (for a listing) entries.

    A pure function of its arguments, run in a worker process when extraction
    is spread over cores (``profile`` may then be a profile name or path).
    ``body``: the page's bytes as served and ``content_type`` its header (or its text).
    """
    if isinstance(profile, str):
        profile = load_profile(profile)
    page = NewsPage(url, body, profile, content_type)
    article = page.article
    teasers = page.teasers if article.reason == "listing page" else {}
    documents = page.documents if article.is_article else []
    decoding = page.decoding if page.decoding and page.decoding.noteworthy else None
    # A page too deep for trafilatura is known only once extracted: it is no page to read, as one too deep to parse.
    problem = page.problem or (article.reason if article.reason == htmltree.TOO_DEEP else None)
    return PageSummary(url, problem, article, page.links, teasers, documents, decoding=decoding)


def page_number(url: str, profile: SiteProfile) -> int | None:
    """The listing page a URL shows (3 where the profile's page parameter is 3, the bare listing 1), if
    paginated by parameter."""
    for name, value in parse_qsl(urlsplit(url).query):
        if profile.is_pagination_param(name):
            return int(value) if value.isdigit() else None
    return 1


def next_page(url: str, links: list[PageLink], profile: SiteProfile) -> list[PageLink]:
    """Of the pager links, the next page only (all of them when page numbers are unknown)."""
    current = page_number(url, profile)
    pager = [link for link in links if link.is_pagination]
    numbered = [(page_number(link.url, profile), link) for link in pager]
    if current is None or any(number is None for number, _ in numbered):
        return pager
    later = [(number, link) for number, link in numbered if number > current]
    return [min(later, key=lambda pair: pair[0])[1]] if later else []


def listing_root(url: str, profile: SiteProfile) -> str:
    """A listing's first page: its URL without pagination parameters."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not profile.is_pagination_param(k)]
    return canonical_url(parts._replace(query="&".join(f"{k}={v}" for k, v in query)).geturl(), profile)


DATE_MARKS = re.compile(r"date|time|\bdata\b")  # on lower-cased class and id ("post-date", "data")
# On lower-cased class and id; a site's own pager marks (its profile's ``pager_marks``) are added by pager_marks().
PAGER_MARKS = re.compile(r"pag(er|ination|e-?nav)|page-numbers|nav-links")


@lru_cache(maxsize=32)
def pager_marks(site_marks: tuple[str, ...] = ()) -> re.Pattern:
    """:data:`PAGER_MARKS` and a site's own (lower-case regular expressions), compiled once per set of marks."""
    if not site_marks:
        return PAGER_MARKS
    return re.compile("|".join((PAGER_MARKS.pattern, *(f"(?:{mark})" for mark in site_marks))))


def in_pager(element, levels: int = 4, marked: dict | None = None, marks: re.Pattern = PAGER_MARKS) -> bool:
    """A link of a pager block ("1 2 3 Next"), or one marked ``rel=next``/``prev``.

    ``marked`` remembers each block's verdict across the links of one page (they share blocks); ``marks`` are
    those of pager blocks (see :func:`pager_marks`).
    """
    if (element.get("rel") or "").lower() in ("next", "prev", "previous"):
        return True
    marked = {} if marked is None else marked
    node = element
    for _ in range(levels):
        node = node.getparent()
        if node is None:
            return False
        verdict = marked.get(node)
        if verdict is None:
            names = f"{node.get('class') or ''} {node.get('id') or ''}".lower()
            verdict = marked[node] = bool(marks.search(names))
        if verdict:
            return True
    return False
