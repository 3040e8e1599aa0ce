"""Article extraction: a pure function of a page, usable without Scrapy.

>>> from archiver.extraction.extract import extract_article
>>> article = extract_article(html, "https://news.example.org/world/some-slug/")
>>> article.title, article.published, article.text, article.images

trafilatura does the heavy lifting (main text, metadata). A site profile,
when one matches the page (by host, or given explicitly), sharpens it: the
article container, the headline and date selectors, and the navigation link
texts that must never end up in the text. Without a profile the text is
trafilatura's own, so extraction is never worse than calling it directly.
"""

from __future__ import annotations

import copy
import functools
import re
from contextlib import nullcontext
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from . import charsets, headlines, htmltree, hyperlinks, layout, pagemeta, published
from .article import Article
from .charsets import read_body
from .classify import MIN_ARTICLE_CHARS, classify
from .hidden import hidden_set_aside
from .images import CAPTION_SELECTORS, collect_images
from .normalize import canonical_url, clean_line, clean_text, find_dates, paragraphs, parse_date
from ..profiles import GENERIC, SiteProfile, fold_text, profile_for_url


def extract_article(html: str | bytes, url: str, profile: SiteProfile | None = None,
                    content_type: str | None = None) -> Article:
    """Extract the article of one page. Never raises on bad input.

    ``html`` may be ``str`` or ``bytes`` (decoded by ``content_type``'s charset unless the bytes do not fit
    it, then by a ``<meta>`` charset or detection; see :mod:`archiver.extraction.charsets`). ``profile``
    defaults to the bundled profile of the URL's host, if any.
    """
    url = url or ""  # an unknown address: the page is still read
    profile = profile or profile_for_url(url) or GENERIC
    text, _, problem = read_body(html, content_type, url)
    tree, problem = (None, problem) if problem else htmltree.parse_page(text)
    if tree is None:
        return Article(url=canonical_url(url, profile), reason=problem)
    return extract_from_tree(tree, url, profile)


def extract_from_tree(tree, url: str, profile: SiteProfile = GENERIC) -> Article:
    """:func:`extract_article` on an already parsed lxml tree (the tree is not modified)."""
    try:
        return _extract_from_tree(tree, url, profile)
    except RecursionError:  # trafilatura recurses once a level or more: a page nested too deep for it is refused
        return Article(url=canonical_url(url, profile), reason=htmltree.TOO_DEEP)


def _extract_from_tree(tree, url: str, profile: SiteProfile) -> Article:
    article = Article(url=canonical_url(url, profile))
    base = htmltree.base_url(tree, url)
    article.url = _canonical_page_url(tree, base, url, profile)
    article.language = page_language(tree, url, profile)
    article.description = htmltree.meta(tree, "description", "og:description")
    container = htmltree.unique_match(tree, profile.container_selectors)
    # The whole page's layout is costly; with the profile's container it is needed only as a fallback.
    page_layout = functools.cache(lambda: layout.analyse(tree, base, url, profile))
    if container is not None:
        article.extractor = f"profile:{profile.name}"
        _extract_with_profile(article, tree, container, base, profile, page_layout)
    else:
        _extract_generic(article, tree, base, url, profile, page_layout())
    _find_section(article, tree, base, url, profile)
    article.is_article, article.reason = classify(article, tree, page_layout, container is not None, profile, base)
    return article


def _trafilatura():
    """trafilatura, imported on first use: a crawl whose extraction runs in worker processes
    does not load it in its own process (a fifth of a second at start, and its memory)."""
    import trafilatura

    return trafilatura


@functools.cache
def _trafilatura_copies_its_input() -> bool:
    """trafilatura 2.3.1 and later copy a tree they are given before changing it; earlier versions change it."""
    from importlib.metadata import version

    try:
        return tuple(int(part) for part in version("trafilatura").split(".")[:3]) >= (2, 3, 1)
    except ValueError:  # a version such as 2.4.0rc1: not known to copy
        return False


def _for_trafilatura(tree):
    """The tree to give trafilatura: the tree itself when trafilatura copies what it is given (the page's tree,
    and the pruned copy read again afterwards, must not change), else a copy."""
    return tree if _trafilatura_copies_its_input() else copy.deepcopy(tree)


@functools.cache
def _body_options():
    """trafilatura's options for an article body, built once: given as keywords, they would
    be built again at every call (about 7 % of its work on a body). trafilatura copies them
    before changing any."""
    from trafilatura.settings import Extractor

    return Extractor(recall=True, comments=False, fast=True, tables=True, dedup=False,
                     with_metadata=False, output_format="txt")


def decode_html(html: str | bytes, content_type: str | None = None) -> str:
    """A page's text (see :func:`archiver.extraction.charsets.decode`); text is returned as it is."""
    if isinstance(html, str):
        return html
    return charsets.decode(html or b"", content_type)[0]


def page_language(tree, url: str, profile: SiteProfile) -> str | None:
    """The page's declared language, else the profile's for the host, else a script guess."""
    declared = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang") \
        or htmltree.meta(tree, "content-language", "og:locale", "language")
    if declared:
        return re.split(r"[-_]", declared.strip())[0].lower() or None
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
    declared = hyperlinks.link_rel(tree, "canonical", base)
    if declared:
        candidate = canonical_url(declared, profile)
        if hyperlinks.same_host(candidate, own) and hyperlinks.url_depth(candidate) >= 1:
            return candidate
    return own


# -- profile-sharpened extraction ------------------------------------------

def _extract_with_profile(article: Article, tree, container, base: str, profile: SiteProfile, page_layout) -> None:
    """The profile's selectors; ``page_layout()`` gives the whole page's layout when a fallback needs it."""
    inside = layout.analyse(container, base, article.url, profile)
    article.title = _profile_title(tree, container, profile) or _generic_title(tree, article.url)
    # The profile's date element first, then the page's own metadata (article:published_time, JSON-LD), then
    # a date written next to the headline outside the container.
    article.published = _profile_date(container, profile, inside) or _parsed(_structured_date(tree)) or \
        layout.headline_date(tree, headlines.headline_element(tree, article.title), page_layout(), profile)
    # Furniture inside the container (other news, tags, "read also") is removed
    # from a copy before the profile's own removals.
    body = layout.pruned_copy(container, inside.furniture)
    htmltree.remove_all(body, profile.remove_selectors)
    hyperlinks.remove_navigation(body, base, article.url, profile.navigation_texts)
    article.images = collect_images(body, base)
    htmltree.remove_all(body, CAPTION_SELECTORS)
    article.text = _body_text(body, profile, article.title)
    # The page's own metadata only: trafilatura's full metadata pass costs as much as the rest.
    article.author = _real_author(htmltree.meta(tree, "author", "article:author"), article.text)


def _profile_title(tree, container, profile: SiteProfile) -> str | None:
    for selector in profile.title_selectors:
        for scope in (container, tree):
            for node in htmltree.select(scope, selector):
                text = clean_line(node.text_content())
                if text:
                    return text
    return None


def _profile_date(container, profile: SiteProfile, container_layout) -> str | None:
    """The profile's date element in the container, unless it dates another article (a teaser)."""
    teasers = set(map(id, container_layout.teaser_items))
    for selector in profile.date_selectors:
        for node in htmltree.select(container, selector):
            if any(id(ancestor) in teasers for ancestor in (node, *node.iterancestors())):
                continue
            published = parse_date(node.get("datetime") or node.text_content(), profile.dayfirst,
                                   profile.date_formats)
            if published:
                return published
    return None


def _body_text(body, profile: SiteProfile, title: str | None) -> str:
    """Clean text of an article body: trafilatura's, or the plain block walk where trafilatura lost text."""
    walked = htmltree.block_text(body)
    if body.find(".//table") is not None:  # trafilatura may run a table's cells together: the walk it is
        return _finish_text(walked, profile, title)
    # trafilatura reads (and changes) the copy as a tree, not serialized and parsed again.
    # fast: its fallback extractors are not run; the block walk is the fallback.
    document = lxml.html.Element("html")
    etree.SubElement(document, "body").append(body)
    try:
        extracted = _trafilatura().extract(document, options=_body_options())
    except RecursionError:  # a body nested too deep for trafilatura: the block walk is the fallback
        return _finish_text(walked, profile, title)
    extracted = _table_rows_as_lines(extracted or "")
    # On a small fragment trafilatura sometimes drops short lines or runs all
    # paragraphs into one; the block walk keeps every block, so take it then.
    lost_text = len(clean_line(extracted)) < 0.9 * len(clean_line(walked))
    lost_lines = len(extracted.splitlines()) < 0.6 * len(walked.splitlines())
    return _finish_text(walked if lost_text or lost_lines else extracted, profile, title)


def _finish_text(text: str, profile: SiteProfile, title: str | None) -> str:
    """Paragraphs, without lone date lines and navigation lines."""
    text = "\n\n".join(line for line in paragraphs(clean_text(text)) if not _is_date_line(line))
    return _drop_navigation_lines(text, profile, title)


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

def _extract_generic(article: Article, tree, base: str, url: str, profile: SiteProfile, page_layout) -> None:
    """trafilatura on the page.

    Without site knowledge the text is trafilatura's own, from the page as it
    is. With a profile, trafilatura reads the page without its furniture
    (teasers of other articles, link blocks, menus), favouring recall, and
    lone date lines and navigation lines are dropped.
    """
    pruned = tree if profile is GENERIC else layout.pruned_copy(tree, page_layout.furniture)
    if profile is not GENERIC and len(page_layout.teaser_items) >= 3:
        # Teasers and little else: a listing. Skip the costly extraction.
        rest = clean_text(htmltree.block_text(pruned.find("body") if pruned.find("body") is not None else pruned))
        if len(rest) < MIN_ARTICLE_CHARS:
            article.title = headlines.best_title(tree, url, htmltree.title(tree))
            article.text = rest
            return
    # Without a profile, what the page hides from its readers is set aside while trafilatura reads it.
    with hidden_set_aside(pruned) if profile is GENERIC else nullcontext(pruned) as shown:
        document = _trafilatura().bare_extraction(_for_trafilatura(shown), url=url, with_metadata=False,
                                                  include_comments=False, include_tables=True,
                                                  favor_recall=profile is not GENERIC)
        # trafilatura's title, author and description, read as its metadata pass reads them (pagemeta), on a
        # page where it finds a text.
        meta = {**_document_dict(document), **pagemeta.read(shown)} if document is not None else {}
    # The page's own metadata title decides between headings; trafilatura's may be one of those headings.
    article.title = headlines.best_title(tree, url, htmltree.meta(tree, "og:title") or htmltree.title(tree)
                                         or meta.get("title"), fallback=meta.get("title"))
    text = clean_text(_table_rows_as_lines(meta.get("text") or ""))
    if profile is not GENERIC:
        text = "\n\n".join(line for line in paragraphs(text)
                            if not page_layout.is_furniture(line) and not _is_date_line(line))
    article.text = _drop_navigation_lines(text, profile, article.title)
    content = htmltree.content_root(pruned, paragraphs(article.text))
    if profile is not GENERIC and content is not None:
        # The region holding both the headline and the text trafilatura found,
        # read again block by block where trafilatura lost lines or split a
        # table into cells (furniture is already pruned from it).
        content = htmltree.common_ancestor(content, headlines.headline_element(pruned, article.title))
        body = copy.deepcopy(content)
        htmltree.remove_all(body, ("h1", "time", "script", "style", *profile.remove_selectors))
        hyperlinks.remove_navigation(body, base, article.url, profile.navigation_texts)
        article.images = collect_images(body, base)
        htmltree.remove_all(body, CAPTION_SELECTORS)
        article.text = _body_text(body, profile, article.title)
    elif content is not None:
        chrome = htmltree.chrome_tokens(profile.pager_marks)
        # The images outside the content's furniture (share bars, related links), read in place, not copied.
        article.images = collect_images(content, base, keep=lambda img: not _in_chrome_below(img, content, chrome))
    headline = headlines.headline_element(tree, article.title)
    # ISO 8601, or nothing: a date the parser cannot read is not kept half-read.
    structured, shown = _structured_date(tree), layout.headline_date(tree, headline, page_layout, profile)
    # htmldate's date is the last resort: looked for only when the page neither declares nor shows one.
    fallback = None
    if profile is GENERIC and document is not None and not (_parsed(structured) or shown):
        with hidden_set_aside(tree) as visible:  # the page trafilatura read
            fallback = pagemeta.find_date(visible, url)
    article.published = published.choose(structured, shown, published.url_date(url), fallback,
                                         published.page_offset(_timestamps(tree)))
    article.author = _real_author(meta.get("author"), article.text)
    article.description = article.description or meta.get("description")


def _in_chrome_below(node, scope, chrome) -> bool:
    """``node`` or one of its ancestors below ``scope`` is page furniture."""
    for element in (node, *node.iterancestors()):
        if element is scope:
            return False
        if htmltree.is_chrome(element, chrome):
            return True
    return False


DATE_LINE_FILLER = re.compile(r"^[\s.,:;|–—-]*(г\.?|года|год|published|date|дата|опубликовано)?[\s.,:;|–—-]*$",
                              re.IGNORECASE)


def _is_date_line(line: str) -> bool:
    """A line that is nothing but a date (the article's own date line, shown apart from the text)."""
    if len(line) > 40:
        return False
    dates = find_dates(line)
    return len(dates) == 1 and bool(DATE_LINE_FILLER.match(line.replace(dates[0], " ")))


def _document_dict(document) -> dict:
    if document is None:
        return {}
    if isinstance(document, dict):
        return document
    return document.as_dict()


def _generic_title(tree, url: str) -> str | None:
    return headlines.best_title(tree, url, htmltree.meta(tree, "og:title") or htmltree.title(tree))


def _parsed(value: str | None) -> str | None:
    """A date from the page's metadata as ISO 8601, or ``None`` if it cannot be read."""
    return parse_date(value, dayfirst=True) if value else None


def _structured_date(tree) -> str | None:
    value = htmltree.meta(tree, "article:published_time", "datePublished", "pubdate", "date")
    declared = [node for node in htmltree.json_ld(tree) if node.get("datePublished")]
    if value:
        for node in declared:
            # The page's JSON-LD says the metadata's time is its last modification: its datePublished is the
            # publication's.
            modified, published_ = _parsed(str(node.get("dateModified") or "")), _parsed(str(node["datePublished"]))
            if modified and modified == _parsed(value) and published_ not in (None, modified):
                return str(node["datePublished"])
        return value
    return str(declared[0]["datePublished"]) if declared else None


def _timestamps(tree):
    """The page's timestamps that may state its time zone: ``<time datetime>``, metadata, JSON-LD dates."""
    yield from (node.get("datetime") for node in tree.iter("time"))
    yield from (node.get("content") for node in tree.iter("meta"))
    for node in htmltree.json_ld(tree):
        yield from (str(node[key]) for key in ("datePublished", "dateModified") if node.get(key))


def _real_author(author: str | None, text: str) -> str | None:
    author = clean_line(author or "")
    if not author or len(author) > 80 or "http" in author:
        return None
    return author


# -- sections --------------------------------------------------------------

def _find_section(article: Article, tree, base: str, page_url: str, profile: SiteProfile) -> None:
    """The article's section: the listing above its canonical URL when the page links to it,
    else the "Back to the section" link, else the listing above its URL."""
    parent = hyperlinks.parent_url(article.url)
    if parent and profile.section_url is not None and not profile.section_url.search(hyperlinks.path_of(parent)):
        parent = None
    linked = {canonical_url(link.url, profile) for link in hyperlinks.anchors(tree, base)
              if link.tag == "a" and link.href} if parent else set()
    # The page's own canonical URL (rel=canonical, when it points elsewhere) decides, whatever
    # section it was reached through; otherwise its parent listing, if the page links to it.
    moved = article.url != canonical_url(page_url, profile)
    if parent and (moved or parent in linked):
        section_url = parent
    else:
        section_url = hyperlinks.link_by_text(tree, base, profile.section_link_texts) or parent
    if section_url is None:
        return
    article.section_url = canonical_url(section_url, profile)
    article.section = hyperlinks.last_segment(article.section_url)
    article.section_title = hyperlinks.link_text_to(tree, base, article.section_url, profile)
