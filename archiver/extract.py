"""Article extraction: a pure function of a page, usable without Scrapy.

>>> from archiver.extract import extract_article
>>> article = extract_article(html, "https://en.odkb-csto.org/news/news_odkb/some-slug/")
>>> article.title, article.published, article.text, article.images

trafilatura does the heavy lifting (main text, metadata). A site profile,
when one matches the page (by host, or given explicitly), sharpens it: the
article container, the headline and date selectors, and the navigation link
texts that must never end up in the text. Without a profile the text is
trafilatura's own, so extraction is never worse than calling it directly.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field

import trafilatura
from lxml import etree
from w3lib.encoding import html_to_unicode

from . import htmltree
from .normalize import canonical_url, clean_line, clean_text, find_dates, paragraphs, parse_date
from .profiles import GENERIC, SiteProfile, fold_text, profile_for_url

MIN_ARTICLE_CHARS = 200  # below this a page is a stub, a soft 404 or a listing teaser
ARTICLE_TYPES = {"newsarticle", "article", "blogposting", "reportagenewsarticle", "report"}


@dataclass
class Image:
    src: str
    alt: str = ""
    caption: str | None = None
    position: int = 0


@dataclass
class Article:
    """What a page says of itself. ``is_article`` tells whether it is one."""

    url: str
    title: str | None = None
    published: str | None = None
    text: str = ""
    images: list[Image] = field(default_factory=list)
    language: str | None = None
    section: str | None = None
    section_url: str | None = None
    section_title: str | None = None
    description: str | None = None
    author: str | None = None
    is_article: bool = False
    reason: str = ""  # why a page is not an article, or "" when it is
    extractor: str = "generic"  # "profile:<name>" when a site profile matched

    @property
    def date_missing(self) -> bool:
        return self.is_article and not self.published


def extract_article(html: str | bytes, url: str, profile: SiteProfile | None = None,
                    content_type: str | None = None) -> Article:
    """Extract the article of one page. Never raises on bad input.

    ``html`` may be ``str`` or ``bytes`` (decoded from ``content_type``'s
    charset, a ``<meta>`` charset or a BOM, as browsers do). ``profile``
    defaults to the bundled profile of the URL's host, if any.
    """
    profile = profile or profile_for_url(url) or GENERIC
    text = decode_html(html, content_type)
    problem = body_problem(text)
    tree = None if problem else htmltree.parse(text)
    if tree is None:
        return Article(url=canonical_url(url, profile), reason=problem or "unparseable HTML")
    return extract_from_tree(tree, url, profile)


def body_problem(text: str) -> str | None:
    """Why a decoded body cannot be a page at all, or ``None``."""
    if not text.strip():
        return "empty body"
    if htmltree.looks_binary(text):
        return "binary body"
    return None


def extract_from_tree(tree, url: str, profile: SiteProfile = GENERIC) -> Article:
    """:func:`extract_article` on an already parsed lxml tree (the tree is not modified)."""
    article = Article(url=canonical_url(url, profile))
    base = htmltree.base_url(tree, url)
    article.url = _canonical_page_url(tree, base, url, profile)
    article.language = page_language(tree, url, profile)
    article.description = htmltree.meta(tree, "description", "og:description")
    container = htmltree.unique_match(tree, profile.container_selectors)
    if container is not None:
        article.extractor = f"profile:{profile.name}"
        _extract_with_profile(article, tree, container, base, profile)
        content = container
    else:
        content = _extract_generic(article, tree, base, url, profile)
    _find_section(article, tree, base, profile)
    article.is_article, article.reason = _classify(article, tree, content, container is not None, profile)
    return article


def decode_html(html: str | bytes, content_type: str | None = None) -> str:
    if isinstance(html, str):
        return html
    _, text = html_to_unicode(content_type, html or b"")
    return text


def page_language(tree, url: str, profile: SiteProfile) -> str | None:
    """The page's declared language, else the profile's for the host, else a script guess."""
    declared = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang") \
        or htmltree.meta(tree, "content-language", "og:locale", "language")
    if declared:
        return re.split(r"[-_]", declared.strip())[0].lower() or None
    from urllib.parse import urlsplit
    by_host = profile.language_for_host(urlsplit(url).hostname or "")
    if by_host:
        return by_host
    sample = "".join(tree.xpath("//body//text()")[:400])
    cyrillic = len(re.findall(r"[\u0400-\u04ff]", sample))
    latin = len(re.findall(r"[A-Za-z]", sample))
    if cyrillic + latin < 20:
        return None
    return "ru" if cyrillic > latin else "en"


def _canonical_page_url(tree, base: str, url: str, profile: SiteProfile) -> str:
    """The page's canonical URL: its ``rel=canonical`` when on the same host, else its own."""
    own = canonical_url(url, profile)
    declared = htmltree.link_rel(tree, "canonical", base)
    if declared:
        candidate = canonical_url(declared, profile)
        if htmltree.same_host(candidate, own) and htmltree.url_depth(candidate) >= 1:
            return candidate
    return own


# -- profile-sharpened extraction ------------------------------------------

def _extract_with_profile(article: Article, tree, container, base: str, profile: SiteProfile) -> None:
    article.title = _profile_title(tree, container, profile) or _generic_title(tree)
    article.published = _profile_date(tree, container, profile)
    body = copy.deepcopy(container)
    htmltree.remove_all(body, profile.remove_selectors)
    htmltree.remove_navigation(body, base, article.url, profile.navigation_texts)
    article.images = collect_images(body, base)
    htmltree.remove_all(body, ("figcaption", ".photo-caption", ".caption", ".wp-caption-text"))
    article.text = _body_text(body, profile, article.title)
    if not article.published and article.text:
        # A date line inside the body, before the first real paragraph.
        first = paragraphs(article.text)[:1]
        if first and len(first[0]) < 40:
            article.published = parse_date(first[0], profile.dayfirst, profile.date_formats)
            if article.published:
                article.text = "\n\n".join(paragraphs(article.text)[1:])
    meta = _trafilatura_metadata(tree, article.url)
    article.author = _real_author(meta.get("author"), article.text)
    article.description = article.description or meta.get("description")


def _profile_title(tree, container, profile: SiteProfile) -> str | None:
    for selector in profile.title_selectors:
        for scope in (container, tree):
            for node in htmltree.select(scope, selector):
                text = clean_line(node.text_content())
                if text:
                    return text
    return None


def _profile_date(tree, container, profile: SiteProfile) -> str | None:
    for selector in profile.date_selectors:
        for node in htmltree.select(container, selector):
            value = node.get("datetime") or node.text_content()
            published = parse_date(value, profile.dayfirst, profile.date_formats)
            if published:
                return published
    # No date element: a date written near the headline, inside the container.
    return _date_near_headline(container, profile)


def _date_near_headline(container, profile: SiteProfile, window: int = 300) -> str | None:
    """A date among the first ``window`` characters of the container's own text."""
    pieces, seen = [], 0
    for text in container.itertext():
        pieces.append(text)
        seen += len(text.strip())
        if seen > window:
            break
    for candidate in find_dates(" ".join(pieces)):
        published = parse_date(candidate, profile.dayfirst, profile.date_formats)
        if published:
            return published
    return None


def _body_text(body, profile: SiteProfile, title: str | None) -> str:
    """Clean text of an article body: trafilatura's, or the plain block walk where trafilatura lost text."""
    fragment = etree.tostring(body, encoding="unicode", method="html")
    extracted = trafilatura.extract(
        f"<html><body>{fragment}</body></html>", favor_recall=True, include_comments=False,
        include_tables=True, deduplicate=False, with_metadata=False, output_format="txt",
    )
    extracted = _table_rows_as_lines(extracted or "")
    walked = htmltree.block_text(body)
    # On a small fragment trafilatura sometimes drops short lines or runs all
    # paragraphs into one; the block walk keeps every block, so take it then.
    lost_text = len(clean_line(extracted)) < 0.9 * len(clean_line(walked))
    lost_lines = len(extracted.splitlines()) < 0.6 * len(walked.splitlines())
    text = walked if lost_text or lost_lines else extracted
    return _drop_navigation_lines(clean_text(text), profile, title)


def _table_rows_as_lines(text: str) -> str:
    """trafilatura writes table rows as ``| a | b |``; the archive writes ``a | b``."""
    return "\n".join(line.strip().strip("|").strip() if line.lstrip().startswith("|") else line
                     for line in text.splitlines())


def _drop_navigation_lines(text: str, profile: SiteProfile, title: str | None) -> str:
    navigation = profile.navigation_texts
    if not navigation:
        return text  # no site knowledge: keep the extractor's text as it is
    folded_title = fold_text(title or "")
    kept = []
    for line in paragraphs(text):
        folded = fold_text(line)
        if folded in navigation or (not kept and folded == folded_title):
            continue
        kept.append(line)
    return "\n\n".join(kept)


# -- generic extraction -----------------------------------------------------

def _extract_generic(article: Article, tree, base: str, url: str, profile: SiteProfile):
    """trafilatura on the whole page; returns the element that holds the text, if found."""
    document = trafilatura.bare_extraction(
        copy.deepcopy(tree), url=url, with_metadata=True, include_comments=False, include_tables=True,
    )
    meta = _document_dict(document)
    article.title = _best_title(tree, meta.get("title"))
    article.text = _drop_navigation_lines(clean_text(meta.get("text") or ""), profile, article.title)
    article.published = _structured_date(tree) or _date_after_headline(tree, profile) or meta.get("date")
    if article.published:
        article.published = parse_date(article.published, dayfirst=True) or article.published
    article.author = _real_author(meta.get("author"), article.text)
    article.description = article.description or meta.get("description")
    content = htmltree.content_root(tree, paragraphs(article.text))
    if content is not None:
        article.images = collect_images(htmltree.without_chrome(content), base)
    return content


def _document_dict(document) -> dict:
    if document is None:
        return {}
    if isinstance(document, dict):
        return document
    return document.as_dict()


def _trafilatura_metadata(tree, url: str) -> dict:
    try:
        meta = trafilatura.extract_metadata(copy.deepcopy(tree), default_url=url)
    except Exception:  # metadata is a bonus; a bad page must not break extraction
        return {}
    return _document_dict(meta)


def _generic_title(tree) -> str | None:
    return _best_title(tree, htmltree.meta(tree, "og:title") or htmltree.title(tree))


def _best_title(tree, metadata_title: str | None) -> str | None:
    """The page's own headline (its ``<h1>``) unless metadata clearly knows better.

    Metadata titles are often shortened (``og:title`` ending in "…") or carry
    the site name; the visible headline is what readers see.
    """
    metadata_title = clean_line(metadata_title or "") or None
    headlines = [t for t in (clean_line(h.text_content()) for h in tree.iter("h1")) if t]
    if not headlines:
        return metadata_title
    if len(headlines) == 1 or not metadata_title:
        return headlines[0]
    stem = metadata_title.rstrip(".…").strip().casefold()
    for headline in headlines:
        if headline.casefold().startswith(stem[:30]) or stem.startswith(headline.casefold()):
            return headline
    return headlines[0]


def _structured_date(tree) -> str | None:
    value = htmltree.meta(tree, "article:published_time", "datePublished", "pubdate", "date")
    if value:
        return value
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        for node in data if isinstance(data, list) else [data]:
            if isinstance(node, dict) and node.get("datePublished"):
                return str(node["datePublished"])
    return None


def _date_after_headline(tree, profile: SiteProfile) -> str | None:
    """A date in the headline's own block: the profile's date element there, else any date near it."""
    headline = next(iter(tree.iter("h1")), None)
    if headline is None:
        return None
    scope = headline.getparent() if headline.getparent() is not None else headline
    return _profile_date(tree, scope, profile)


def _real_author(author: str | None, text: str) -> str | None:
    author = clean_line(author or "")
    if not author or len(author) > 80 or "http" in author:
        return None
    return author


# -- images, sections, classification ----------------------------------------

IMAGE_NOISE = re.compile(r"logo|icon|sprite|spacer|pixel|counter|banner|avatar|emoji|share|social|blank\.gif",
                         re.IGNORECASE)
MIN_IMAGE_SIDE = 48


def collect_images(scope, base: str) -> list[Image]:
    """The article's own images inside ``scope``: absolute ``src``, ``alt``, caption."""
    images, seen = [], set()
    for img in scope.iter("img"):
        src = htmltree.image_source(img)
        if not src or src.startswith("data:"):
            continue
        marks = " ".join(filter(None, (src, img.get("class"), img.get("id"))))
        if IMAGE_NOISE.search(marks) or htmltree.is_tiny(img, MIN_IMAGE_SIDE):
            continue
        absolute = htmltree.absolute_url(base, src)
        if absolute in seen:
            continue
        seen.add(absolute)
        images.append(Image(src=absolute, alt=clean_line(img.get("alt") or ""),
                            caption=htmltree.image_caption(img), position=len(images)))
    return images


def _find_section(article: Article, tree, base: str, profile: SiteProfile) -> None:
    """Section from the "Back to the section" link, the breadcrumbs or the URL's parent."""
    section_url = htmltree.link_by_text(tree, base, profile.section_link_texts)
    if section_url is None and profile.section_url is not None:
        parent = htmltree.parent_url(article.url)
        if parent and profile.section_url.search(htmltree.path_of(parent)):
            section_url = parent
    if section_url is None:
        return
    article.section_url = canonical_url(section_url, profile)
    article.section = htmltree.last_segment(article.section_url)
    article.section_title = htmltree.link_text_to(tree, base, article.section_url, profile)


MIN_DATED_ARTICLE_CHARS = 40  # a dated page with a headline may be a short notice
TEASER_SHARE = 0.15  # listings: other articles' headlines make up this much of the text


def _classify(article: Article, tree, content, profiled: bool, profile: SiteProfile) -> tuple[bool, str]:
    """Is this page an article? A headline and a body (with a date, structured data or the
    profile's article container), and not a listing of other articles."""
    if not article.title:
        return False, "no headline"
    body_chars = len(article.text)
    teasers, teaser_chars = htmltree.teasers_in_text(tree, article.text, profile)
    if teasers >= 5 or (teasers and teaser_chars >= TEASER_SHARE * body_chars) or \
            (content is not None and htmltree.looks_like_listing(content, profile)):
        return False, "listing page"
    typed = htmltree.structured_type(tree) & ARTICLE_TYPES
    if (article.published or typed) and body_chars >= MIN_DATED_ARTICLE_CHARS:
        return True, ""
    if body_chars < MIN_ARTICLE_CHARS:
        return False, f"body too short ({body_chars} characters)"
    if not (profiled or htmltree.meta(tree, "og:type") == "article") and len(paragraphs(article.text)) < 2:
        # Unknown layout, no date, no structured data: a long body still makes
        # an article, but only if it reads like one.
        return False, "no date and a single block of text"
    return True, ""
