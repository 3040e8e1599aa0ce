"""Is a page an article? Pure functions of the extracted article and its page."""

from __future__ import annotations

from urllib.parse import urljoin

from . import htmltree, hyperlinks
from .article import Article
from .normalize import clean_line, paragraphs
from ..profiles import SiteProfile

MIN_ARTICLE_CHARS = 200  # below this a page is a stub, a soft 404 or a listing teaser
ARTICLE_TYPES = {"newsarticle", "article", "blogposting", "reportagenewsarticle", "report"}
MIN_DATED_ARTICLE_CHARS = 40  # a dated page with a headline may be a short notice
TEASER_SHARE = 0.15  # listings: other articles' headlines make up this much of the text
MIN_TEASER_SHARE = 0.02  # ... or at least this much, when there are five or more of them
LISTING_TEXT_SHARE = 0.5  # unknown layouts: this much of the text inside teaser items makes a listing


def _teaser_share(text: str, teasers: list) -> float:
    """The share of ``text`` found inside the page's teaser items (blocks presenting other articles)."""
    if len(teasers) < 3 or not text:
        return 0.0
    inside = "\n".join(htmltree.block_text(teaser) for teaser in teasers)
    found = sum(len(line) for line in paragraphs(text) if line.lstrip("-•* ").strip() in inside)
    return found / len(text)


def classify(article: Article, tree, page_layout, profiled: bool, profile: SiteProfile,
             base: str) -> tuple[bool, str]:
    """Is this page an article? A headline and a body (with a date, structured data or the
    profile's article container), and not a listing of other articles. Returns (verdict, reason).

    ``page_layout()`` gives the page's :class:`archiver.extraction.layout.Layout`, computed only when a rule needs it;
    ``base`` is the URL the page's links resolve against.
    """
    if not article.title:
        return False, "no headline"
    body_chars = len(article.text)
    teasers, teaser_chars = teasers_in_text(tree, article.text, profile, base)
    # Many headlines, or headlines that are a good part of the text; a few standalone links
    # ("Read also") lost in a long article do not make it a listing.
    if (teasers >= 5 and teaser_chars >= MIN_TEASER_SHARE * body_chars) or \
            (teasers and teaser_chars >= TEASER_SHARE * body_chars):
        return False, "listing page"
    if body_chars < MIN_DATED_ARTICLE_CHARS and not article.published and len(page_layout().teaser_items) >= 3:
        return False, "listing page"  # dated, it is a short post (a video and its caption) beside other news
    if not profiled and _teaser_share(article.text, page_layout().teaser_items) >= LISTING_TEXT_SHARE:
        return False, "listing page"  # the text is the teasers of other articles (their headlines left out)
    typed = htmltree.structured_type(tree) & ARTICLE_TYPES
    if (article.published or typed) and body_chars >= MIN_DATED_ARTICLE_CHARS:
        return True, ""
    if body_chars < MIN_ARTICLE_CHARS and not article.published and len(page_layout().teaser_items) >= 3:
        # Undated, a few lines of its own (a section's description, a pager's "News 1 - 20 of 3456" line)
        # above the teasers of other articles.
        return False, "listing page"
    if body_chars < MIN_ARTICLE_CHARS:
        return False, f"body too short ({body_chars} characters)"
    if not (profiled or htmltree.meta(tree, "og:type") == "article") and len(paragraphs(article.text)) < 2:
        # Unknown layout, no date, no structured data: a long body still makes
        # an article, but only if it reads like one.
        return False, "no date and a single block of text"
    return True, ""


def teasers_in_text(tree, text: str, profile: SiteProfile, base: str) -> tuple[int, int]:
    """How many links to article-like pages have their headline inside ``text``, and their length.

    A text made of other articles' headlines is a listing's teasers, whatever
    element it came from.
    """
    found = set()
    for link in hyperlinks.anchors(tree, base):
        headline = clean_line(link.text)
        # A link inside a sentence of the text is a reference, not a teaser's headline.
        if link.tag == "a" and link.href and len(headline) >= 8 and headline not in found and headline in text \
                and profile.looks_like_article_url(urljoin("http://x/", link.href)) \
                and hyperlinks.stands_alone(link.element):
            found.add(headline)
    return len(found), sum(len(headline) for headline in found)
