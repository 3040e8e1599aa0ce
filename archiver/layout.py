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

from dataclasses import dataclass, field

from . import htmltree
from .normalize import canonical_url, clean_line, find_dates, parse_date
from .profiles import SiteProfile

TEASER_MAX_CHARS = 700  # a teaser item is short
TEASER_MIN_HEADLINE_SHARE = 0.05  # and its headline is not lost in it
LINK_BLOCK_SHARE = 0.6  # a block whose text is mostly links to the site is navigation
DATE_WINDOW = 400  # how far (in elements) from the headline its date may be


@dataclass
class Layout:
    teaser_items: list = field(default_factory=list)
    furniture: list = field(default_factory=list)  # elements that are not the article
    furniture_lines: set[str] = field(default_factory=set)  # lines of teasers, link blocks and chrome
    body_lines: set[str] = field(default_factory=set)  # lines of everything else

    def is_furniture(self, line: str) -> bool:
        return line in self.furniture_lines and line not in self.body_lines


def analyse(tree, base: str, page_url: str, profile: SiteProfile) -> Layout:
    layout = Layout(teaser_items=teaser_items(tree, base, page_url, profile))
    furniture = furniture_of(tree, base, page_url, layout.teaser_items)
    layout.furniture = furniture
    for node in furniture:
        layout.furniture_lines.update(htmltree.block_text(node).splitlines())
    body = tree.find("body")
    if body is not None:
        layout.body_lines.update(htmltree.block_text(pruned_copy(body, furniture)).splitlines())
    return layout


def furniture_of(scope, base: str, page_url: str, teasers: list) -> list:
    """Everything in ``scope`` that is not the article: chrome, link blocks, teasers and their frame."""
    furniture = list(teasers)
    furniture += [node for node in scope.iter() if node is not scope and htmltree.is_chrome(node)]
    furniture += [node for node in link_blocks(scope, base, page_url) if node is not scope]
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
    import copy

    removed_ids = set(map(id, removed))
    clone = copy.deepcopy(root)
    doomed = [duplicate for original, duplicate in zip(root.iter(), clone.iter()) if id(original) in removed_ids]
    for duplicate in doomed:
        if duplicate.getparent() is not None:
            duplicate.drop_tree()
    return clone


def _page_url(link, base: str, page_url: str, profile: SiteProfile) -> str | None:
    """The canonical target of a link to another page of the site, if it is one."""
    href = (link.get("href") or "").strip()
    if not href or href.lower().startswith(("javascript:", "mailto:", "tel:", "#")):
        return None
    url = canonical_url(htmltree.absolute_url(base, href), profile)
    return url if htmltree.same_host(url, page_url) else None


def teaser_items(scope, base: str, page_url: str, profile: SiteProfile) -> list:
    """The outermost blocks that each present exactly one other article.

    A headline link with its teaser text; when the link does not look like an
    article URL, the block must also show a date.
    """
    own = canonical_url(page_url, profile)
    items = []
    for link in scope.iter("a"):
        url = _page_url(link, base, page_url, profile)
        headline = clean_line(link.text_content())
        if url is None or url == own or len(headline) < 10 or len(headline.split()) < 2 \
                or not htmltree.stands_alone(link):
            continue  # not a headline: a link inside a sentence, or a short label
        needs_date = not profile.looks_like_article_url(url)
        best, node = None, link.getparent()
        for _ in range(5):
            if node is None or node.tag in ("body", "html"):
                break
            text = clean_line(node.text_content())
            others = {_page_url(a, base, page_url, profile) for a in node.iter("a")} - {None, url}
            if others or len(text) > TEASER_MAX_CHARS or len(headline) < TEASER_MIN_HEADLINE_SHARE * len(text):
                break
            if node.tag.lower() in htmltree.BLOCK_TAGS:
                best = node
            node = node.getparent()
        if best is None:
            continue
        text = clean_line(best.text_content())
        if len(text) > len(headline) and (not needs_date or find_dates(text)):
            items.append(best)
    outermost = []
    chosen = set(map(id, items))
    for item in items:
        if not any(id(ancestor) in chosen for ancestor in item.iterancestors()) and item not in outermost:
            outermost.append(item)
    return outermost


def link_blocks(tree, base: str, page_url: str) -> list:
    """Small blocks whose text is mostly links (links to documents excepted)."""
    from .pages import is_document_url  # pages imports extraction, which imports this module

    found = []
    for node in tree.iter("p", "div", "li", "ul", "ol", "nav", "span", "td"):
        text = clean_line(node.text_content())
        if not text or len(text) > 400:
            continue
        linked = 0
        for link in node.iter("a"):
            href = (link.get("href") or "").strip()
            # A link to a document (the statement's PDF) is content, not navigation.
            if not is_document_url(htmltree.absolute_url(base, href) if href else ""):
                linked += len(clean_line(link.text_content()))
        if linked and linked >= LINK_BLOCK_SHARE * len(text):
            found.append(node)
    return found


def headline_date(tree, headline, layout: Layout, profile: SiteProfile) -> str | None:
    """The date written closest to the headline, outside teasers, chrome and links.

    A ``<time datetime>`` or a short date line right after (or just before)
    the headline; dates of other articles (teasers, sidebars) never count.
    """
    if headline is None:
        return None
    excluded = set(map(id, layout.teaser_items))
    nodes = list(tree.iter())
    position = {id(node): index for index, node in enumerate(nodes)}
    start = position.get(id(headline), 0)
    best = None
    for index in range(max(0, start - DATE_WINDOW // 4), min(len(nodes), start + DATE_WINDOW)):
        node = nodes[index]
        if not isinstance(node.tag, str) or node is headline or _inside(node, excluded) or htmltree.in_chrome(node):
            continue
        value = node.get("datetime") if node.tag == "time" else None
        text = clean_line(node.text or "")
        if value is None and (not text or len(text) > 80 or node.tag == "a" or not find_dates(text)):
            continue
        published = parse_date(value or text, profile.dayfirst, profile.date_formats)
        if published:
            # After the headline beats before it, at equal distance.
            distance = index - start if index > start else (start - index) * 2
            if best is None or distance < best[0]:
                best = (distance, published)
    return best[1] if best else None


def _inside(node, excluded_ids: set[int]) -> bool:
    return any(id(ancestor) in excluded_ids for ancestor in (node, *node.iterancestors()))
