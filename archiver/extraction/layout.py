"""Page layout: which parts of a news page are the article and which are furniture.

Works on any news page, with or without a site profile's selectors:

- *teaser items*: blocks presenting one other article (its headline link,
  usually a date and a teaser), as in listings and "other news" blocks;
- *link blocks*: blocks made mostly of links to other pages of the site
  (breadcrumbs, tags, "Read also", back links);
- *chrome*: header, footer, menus, sidebars, share bars.

:func:`analyse` returns the lines of text found in each, so an extractor's
output can be cleaned line by line, and the headline's date can be found
away from the dates of other articles.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import cached_property

from . import htmltree, hyperlinks
from .hyperlinks import is_document_url
from .normalize import canonical_url, clean_line, find_dates, parse_date
from ..profiles import GENERIC, SiteProfile

TEASER_MAX_CHARS = 700  # a teaser item is short
TEASER_MIN_HEADLINE_SHARE = 0.05  # and its headline is not lost in it
LINK_BLOCK_SHARE = 0.6  # a block whose text is mostly links to the site is navigation
DATE_WINDOW = 400  # how far (in elements) from the headline its date may be


@dataclass
class Layout:
    tree: object
    teaser_items: list = field(default_factory=list)
    find_furniture: object = None  # () -> the elements that are not the article; found when first asked for

    @cached_property
    def furniture(self) -> list:
        """Elements that are not the article: chrome, link blocks, teasers and their frame."""
        return self.find_furniture() if self.find_furniture is not None else []

    @cached_property
    def furniture_lines(self) -> set[str]:
        """Lines of text of teasers, link blocks and chrome."""
        return {line for node in self.furniture for line in htmltree.block_text(node).splitlines()}

    @cached_property
    def body_lines(self) -> set[str]:
        """Lines of text of everything else."""
        body = self.tree.find("body")
        return set(htmltree.block_text(pruned_copy(body, self.furniture)).splitlines()) if body is not None else set()

    def is_furniture(self, line: str) -> bool:
        return line in self.furniture_lines and line not in self.body_lines


def analyse(tree, base: str, page_url: str, profile: SiteProfile) -> Layout:
    index = TextIndex(tree, base, page_url, profile)
    teasers = teaser_items(tree, base, page_url, profile, index)
    # Furniture is looked for only when asked for: the generic extraction never needs it.
    return Layout(tree, teasers, lambda: furniture_of(tree, base, page_url, teasers, index))


def furniture_of(scope, base: str, page_url: str, teasers: list, index: TextIndex) -> list:
    """Everything in ``scope`` that is not the article: chrome, link blocks, teasers and their frame."""
    chrome = htmltree.chrome_tokens(index.profile.pager_marks)
    furniture = list(teasers)
    furniture += [node for node in scope.iter() if node is not scope and htmltree.is_chrome(node, chrome)]
    furniture += [node for node in link_blocks(scope, base, page_url, index) if node is not scope]
    furniture += teaser_frames(teasers)
    return furniture


def teaser_frames(teasers: list) -> list:
    """The block around two or more teasers, when little else is in it ("More news" and its heading)."""
    frames = []
    for parent in {id(t.getparent()): t.getparent() for t in teasers if t.getparent() is not None}.values():
        own = clean_line(parent.text_content())
        for teaser in teasers:
            if teaser.getparent() is parent:
                own = own.replace(clean_line(teaser.text_content()), "", 1)
        count = sum(1 for teaser in teasers if teaser.getparent() is parent)
        if count >= 2 and len(own.strip()) <= 60:
            frames.append(parent)
    return frames


def pruned_copy(root, removed: list):
    """A copy of ``root`` without the ``removed`` elements (the page itself is untouched)."""
    removed_ids = set(map(id, removed))
    clone = copy.deepcopy(root)
    doomed = [duplicate for original, duplicate in zip(root.iter(), clone.iter()) if id(original) in removed_ids]
    for duplicate in doomed:
        if duplicate.getparent() is not None:
            duplicate.drop_tree()
    return clone


def _size(text: str | None) -> int:
    """Length of a text once its whitespace is collapsed (without building the string)."""
    if not text or text.isspace():  # most text between tags is layout whitespace
        return 0
    words = text.split()
    return sum(map(len, words)) + len(words)


class TextIndex:
    """Text lengths and link targets of a page, measured once, bottom-up.

    Layout checks ask "how much text is in this block, and how much of it is
    links?" for many blocks; answering from this index keeps them linear.
    """

    def __init__(self, scope, base: str, page_url: str, profile: SiteProfile):
        self.base, self.page_url, self.profile = base, page_url, profile
        self.length: dict = {}
        self.linked: dict = {}
        self._targets: dict = {}
        self._targets_within: dict = {}
        self._measure(scope)

    def _measure(self, scope) -> None:
        """Every element's text length and the part of it in links. Elements are taken in reverse document
        order, each after everything it holds, and add their sums to their parent's: no recursion (a page
        nested a thousand elements deep must not reach Python's recursion limit)."""
        length, linked_of = self.length, self.linked
        held: dict = {}  # element -> [text, linked text] of its children measured so far
        for node in reversed(list(scope.iter())):
            total = _size(node.text) if isinstance(node.tag, str) else 0
            linked = 0
            inner = held.pop(node, None)
            if inner is not None:
                total += inner[0]
                linked = inner[1]
            if node.tag == "a":
                href = (node.get("href") or "").strip()
                # A link to a document (the statement's PDF) is content, not navigation. Only an href with
                # a dot (or one keeping the page's own path: "?...", "#...") can end in a file extension:
                # the others are not made absolute for nothing.
                could_be_document = "." in href or href.startswith(("?", "#"))
                if not (could_be_document and is_document_url(hyperlinks.absolute_url(self.base, href))):
                    linked = total
            length[node], linked_of[node] = total, linked
            if node is not scope:
                sums = held.get(parent := node.getparent())
                if sums is None:
                    held[parent] = [total + _size(node.tail), linked]
                else:
                    sums[0] += total + _size(node.tail)
                    sums[1] += linked

    def target(self, link) -> str | None:
        """The canonical URL of another page of the site a link points to, if it does."""
        if link not in self._targets:
            href = (link.get("href") or "").strip()
            url = None
            if hyperlinks.followable(href):
                url = canonical_url(hyperlinks.absolute_url(self.base, href), self.profile)
                url = url if hyperlinks.same_host(url, self.page_url) else None
            self._targets[link] = url
        return self._targets[link]

    def targets_within(self, node) -> frozenset:
        if node not in self._targets_within:
            self._targets_within[node] = frozenset(filter(None, map(self.target, node.iter("a"))))
        return self._targets_within[node]


def teaser_items(scope, base: str, page_url: str, profile: SiteProfile, index: TextIndex | None = None) -> list:
    """The outermost blocks that each present exactly one other article.

    A headline link with its teaser text; when the link does not look like an
    article URL, the block must also show a date.
    """
    index = index or TextIndex(scope, base, page_url, profile)
    own = canonical_url(page_url, profile)
    # A block holding a page heading (<h1>) is the page's own, not another article's teaser: a short article
    # whose body ends with one link standing alone (a related article, its PDF) would otherwise be taken
    # whole for a teaser of that link, its date and text with it.
    headings = [(heading, {id(holder) for holder in heading.iterancestors()}) for heading in scope.iter("h1")]
    items = []
    for link in scope.iter("a"):
        headline = index.length.get(link, 0)
        if headline < 10 or len(link.text_content().split()) < 2:
            continue  # not a headline: a short label (tested first: the cheapest test)
        url = index.target(link)
        if url is None or url == own or not hyperlinks.stands_alone(link):
            continue  # not a headline: a link inside a sentence, or to no other page of the site
        best, node = None, link.getparent()
        # Headings around this very link (a listing that marks its headlines up as <h1>) do not count.
        page_headings = [holders for heading, holders in headings if heading not in link.iterancestors()]
        for _ in range(5):
            if node is None or node.tag in ("body", "html"):
                break
            if any(id(node) in holders for holders in page_headings):
                break
            length = index.length.get(node, 0)
            if index.targets_within(node) - {url} or length > TEASER_MAX_CHARS \
                    or headline < TEASER_MIN_HEADLINE_SHARE * length:
                break
            if node.tag.lower() in htmltree.BLOCK_TAGS:
                best = node
            node = node.getparent()
        if best is None or index.length.get(best, 0) <= headline:
            continue
        if profile.looks_like_article_url(url) or find_dates(best.text_content()):
            items.append(best)
    outermost = []
    chosen = set(map(id, items))
    for item in items:
        if not any(id(ancestor) in chosen for ancestor in item.iterancestors()) and item not in outermost:
            outermost.append(item)
    return outermost


LINK_BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "nav", "span", "td"}


def link_blocks(tree, base: str, page_url: str, index: TextIndex | None = None) -> list:
    """Small blocks whose text is mostly links (links to documents excepted)."""
    index = index or TextIndex(tree, base, page_url, GENERIC)
    return [node for node in tree.iter(*LINK_BLOCK_TAGS)
            if 0 < index.length.get(node, 0) <= 400 and index.linked.get(node, 0)
            and index.linked[node] >= LINK_BLOCK_SHARE * index.length[node]]


def headline_date(tree, headline, layout: Layout, profile: SiteProfile) -> str | None:
    """The date written closest to the headline, outside teasers, chrome and links.

    A ``<time datetime>`` or a short date line right after (or just before)
    the headline; dates of other articles (teasers, sidebars) never count.
    """
    if headline is None:
        return None
    excluded = set(map(id, layout.teaser_items))
    chrome = htmltree.chrome_tokens(profile.pager_marks)
    # The headline's own <header> is not the site's: an article's header holds its date too.
    holders = {id(holder) for holder in headline.iterancestors() if holder.tag == "header"}
    nodes = list(tree.iter())
    start = next((index for index, node in enumerate(nodes) if node is headline), 0)
    best = None
    for index in range(max(0, start - DATE_WINDOW // 4), min(len(nodes), start + DATE_WINDOW)):
        if best is not None and index - start >= best[0]:
            break  # nothing further on is closer
        node = nodes[index]
        if not isinstance(node.tag, str) or node is headline:
            continue
        value = node.get("datetime") if node.tag == "time" else None
        # The cheap tests first: most elements hold no date at all.
        text = own_text(node) if value is None or not value else ""
        if value is None and (node.tag == "a" or not _DIGIT.search(text)):
            continue
        text = clean_line(text)
        if value is None and (not text or len(text) > 80 or not _is_short_date_line(text)):
            continue
        if _inside(node, excluded) or _in_chrome_apart(node, holders, chrome):
            continue
        published = parse_date(value or text, profile.dayfirst, profile.date_formats)
        if published:
            # After the headline beats before it, at equal distance.
            distance = index - start if index > start else (start - index) * 2
            if best is None or distance < best[0]:
                best = (distance, published)
    return best[1] if best else None


_DIGIT = re.compile(r"\d")
DATE_LINE_EXTRA = 40  # a date line may say more than its date ("Moscow, ...", "Published: ..."), not much more


def own_text(node) -> str:
    """The text an element holds itself, not its children's: before its first child and after each
    (``<div><i class="icon-calendar"></i> 03.07.2020</div>`` holds " 03.07.2020")."""
    return (node.text or "") + "".join(child.tail or "" for child in node)


def _is_short_date_line(text: str) -> bool:
    """A line that is a date with a few words around it, not a sentence that mentions one (looser than
    extract's lone date line, which is removed from the text: this one only tells where a date is written)."""
    dates = find_dates(text)
    return bool(dates) and len(text) - len(dates[0]) <= DATE_LINE_EXTRA


def _in_chrome_apart(node, headline_holders: set[int], chrome) -> bool:
    """``node`` is in furniture that does not also hold the headline."""
    return any(htmltree.is_chrome(element, chrome) for element in (node, *node.iterancestors())
               if id(element) not in headline_holders)


def _inside(node, excluded_ids: set[int]) -> bool:
    return any(id(ancestor) in excluded_ids for ancestor in (node, *node.iterancestors()))
