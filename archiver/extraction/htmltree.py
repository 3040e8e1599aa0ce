"""Small helpers over lxml HTML trees, shared by extraction and link discovery (a page's links are in
:mod:`archiver.extraction.hyperlinks`)."""

from __future__ import annotations

import itertools
import json
import re
import weakref
from functools import lru_cache
from urllib.parse import urljoin

from lxml import etree, html as lxml_html
from lxml.cssselect import CSSSelector

from .normalize import clean_line

BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "tr",
              "td", "th", "pre", "figure", "figcaption", "section", "article", "dd", "dt", "dl", "header",
              "footer", "address", "center", "main", "form", "hr", "tbody", "thead"}
CHROME_TAGS = ("nav", "aside", "footer", "header", "script", "style", "noscript", "form", "iframe")
# Class or id tokens of page furniture. Whole tokens only: "article__header" is not chrome.
# Matched against lower-cased tokens: without IGNORECASE the regex engine can skip ahead to the
# letters the pattern starts with (2 x faster; 10 x on long strings, see images.IMAGE_NOISE).
# A site's own pager marks (its profile's ``pager_marks``) are added by chrome_tokens().
CHROME_TOKENS = re.compile(
    r"^((site|page|main|top|bottom)[-_])?(header|footer|sidebar|side-bar|menu|navbar|nav|navigation|"
    r"breadcrumbs?|share|social|banner|related|widget|comments?)$|sidebar|breadcrumb|footer|"
    r"(^|[-_])(share|social|menu)($|[-_\d])|pag(er|ination)|page-?nav",
)
BINARY_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0b, 0x0c, *range(0x0e, 0x20)])  # BINARY_CHARACTERS' controls
# Image, PDF and archive signatures (a gzip body sent compressed twice too), as bytes and as the text they
# start once decoded.
BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"GIF8", b"PK\x03\x04", b"\xff\xd8\xff", b"\x1f\x8b")
BINARY_TEXT_MAGIC = ("\x89PNG", "%PDF", "GIF8", "PK\x03\x04", "\xff\xd8\xff")
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def looks_binary(body: str | bytes) -> bool:
    """A body that is not text: image, PDF or archive magic, or mostly control characters (a few NULs are
    no reason: they are stripped from the text).

    Bytes are judged as bytes (an ASCII-compatible charset assumed): no text has control bytes at one in
    twenty, while random bytes (a compressed file) have one in nine, and decode "cleanly" under a single-byte
    charset. Text is judged by its control and replacement characters.
    """
    head = body[:2048]
    if isinstance(head, bytes):
        controls = len(head) - len(head.translate(None, CONTROL_BYTES))
        return head.startswith(BINARY_MAGIC) or controls > len(head) * 0.05
    if head.startswith(BINARY_TEXT_MAGIC):
        return True
    controls = len(BINARY_CHARACTERS.findall(head))
    return controls > len(head) * 0.1


def _html_parser() -> lxml_html.HTMLParser:
    """lxml.html's parser, with every element an ``HtmlElement`` chosen in C: lxml.html's own
    class lookup runs a Python method for each element touched (8 % of extraction time), to
    give form controls classes this project never uses.

    ``huge_tree``: libxml2 stops at 256 nested elements otherwise (a page nested deeper lost its text and
    was judged too short); it still stops at 2,048 (see :func:`parse_page`)."""
    parser = lxml_html.HTMLParser(huge_tree=True)
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment, pi=lxml_html.HtmlProcessingInstruction,
        entity=lxml_html.HtmlEntity))
    return parser


HTML_PARSER = _html_parser()
TOO_DEEP = "nested too deep"
# Layout tables nest a few deep; trafilatura's time on tables nested in tables grows faster than their
# square (seconds at a few hundred), so a page nesting them deeper than this is refused as too deep.
MAX_NESTED_TABLES = 64


def parse(text: str):
    """An lxml tree of any HTML, however broken; ``None`` if there is nothing to parse."""
    return parse_page(text)[0]


def parse_page(text: str) -> tuple[object | None, str | None]:
    """An lxml tree of any HTML, however broken, or ``None`` and why: nothing to parse ("unparseable HTML"),
    or elements nested deeper than libxml2 goes (:data:`TOO_DEEP`: it stops there, and the rest of the page
    would be lost without a word)."""
    text = XML_DECLARATION.sub("", text, count=1)
    try:
        tree = lxml_html.document_fromstring(text, parser=HTML_PARSER)
    except (etree.ParserError, ValueError):
        return None, "unparseable HTML"
    if _stopped_too_deep(HTML_PARSER.error_log) or _tables_too_deep(tree):
        return None, TOO_DEEP
    return tree, None


def _stopped_too_deep(errors) -> bool:
    """The parse ended on libxml2's depth limit (its last error, as it stops there)."""
    last = errors.last_error
    return last is not None and last.type_name == "ERR_RESOURCE_LIMIT" and "depth" in last.message


def _tables_too_deep(tree) -> bool:
    """Tables nested more than :data:`MAX_NESTED_TABLES` deep (only pages with that many tables are looked at
    closer; the first table that deep ends the search)."""
    if sum(1 for _ in itertools.islice(tree.iter("table"), MAX_NESTED_TABLES + 1)) <= MAX_NESTED_TABLES:
        return False
    return any(sum(1 for _ in itertools.islice(table.iterancestors("table"), MAX_NESTED_TABLES)) >= MAX_NESTED_TABLES
               for table in tree.iter("table"))


@lru_cache(maxsize=256)
def _selector(css: str) -> CSSSelector:
    return CSSSelector(css)


def select(scope, css: str) -> list:
    try:
        return _selector(css)(scope)
    except Exception:  # a bad selector in a profile must not crash a crawl
        return []


def first_match(tree, selectors) -> object | None:
    for css in selectors:
        found = select(tree, css)
        if found:
            return found[0]
    return None


def unique_match(tree, selectors) -> object | None:
    """The element of the first selector that matches exactly once (several is ambiguous), or whose matches
    all lie inside its first one (a template nesting its container in another of the same class).

    Remembered per tree (extraction and document listing both ask for the article's container).
    """
    return per_tree(tree, ("unique_match", tuple(selectors)), lambda: _unique_match(tree, selectors))


def _unique_match(tree, selectors) -> object | None:
    for css in selectors:
        found = select(tree, css)
        if len(found) == 1:
            return found[0]
        if found and all(found[0] in node.iterancestors() for node in found[1:]):
            return found[0]
    return None


def remove_all(scope, selectors) -> None:
    """Remove every element any of ``selectors`` matches: one pass over ``scope`` for all of them."""
    selectors = tuple(selectors)
    union = _union(selectors)
    found = union(scope) if union is not None else [node for css in selectors for node in select(scope, css)]
    for node in found:  # in document order: a match inside a removed one goes with it
        drop(node)


@lru_cache(maxsize=64)
def _union(selectors: tuple[str, ...]) -> CSSSelector | None:
    """The selectors as one (``a, b, c``); ``None`` when there are none or one is invalid."""
    try:
        return CSSSelector(", ".join(selectors)) if selectors else None
    except Exception:  # an invalid selector: each is tried on its own
        return None


def drop(node) -> None:
    """Remove a node but keep the text that follows it (its tail)."""
    parent = node.getparent()
    if parent is None:
        return
    node.drop_tree()


def meta(tree, *names: str) -> str | None:
    """The first non-empty ``<meta>`` content among ``names`` (name, property or itemprop)."""
    # One pass over the page's <meta> elements, not one XPath per name and attribute.
    metas = [(node.attrib, node.get("content") or "") for node in tree.iter("meta")]
    for name in (name.lower() for name in names):
        for attr in ("name", "property", "itemprop", "http-equiv"):
            for attributes, content in metas:
                if content.strip() and (attributes.get(attr) or "").lower() == name:
                    return clean_line(content)
    return None


def title(tree) -> str | None:
    found = tree.find(".//title")
    return clean_line(found.text_content()) if found is not None else None


def base_url(tree, url: str) -> str:
    base = tree.find(".//base[@href]")
    return urljoin(url, base.get("href").strip()) if base is not None else url


# Facts computed once per parsed tree. Weak keys: they go with their tree.
_FACTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def per_tree(tree, key: tuple, compute):
    """``compute()``, remembered for ``tree`` under ``key``. The tree must not change meanwhile:
    extraction never changes a page's tree (it works on copies when it removes anything)."""
    facts = _FACTS.get(tree)
    if facts is None:
        facts = _FACTS[tree] = {}
    if key not in facts:
        facts[key] = compute()
    return facts[key]


def block_text(scope) -> str:
    """The text of ``scope`` with one line per block element or ``<br>``.

    Walked with a stack of its own, not by recursion: a page nested a thousand elements deep must not reach
    Python's recursion limit."""
    lines, current = [], []

    def flush():
        line = clean_line("".join(current))
        if line:
            lines.append(line)
        current.clear()

    pending = [scope]  # elements to enter, last first; (tag, element) to leave
    while pending:
        node = pending.pop()
        if type(node) is tuple:  # leaving an element, its children done
            tag, node = node
            if tag in BLOCK_TAGS and tag not in ("td", "th"):
                flush()
            if node.tail:
                current.append(node.tail)
            continue
        tag = node.tag.lower() if isinstance(node.tag, str) else None
        if tag is None or tag in ("script", "style", "noscript"):  # a comment, or no text of the page
            if node.tail:
                current.append(node.tail)
            continue
        if tag in ("td", "th"):
            # A table row is one line, its cells separated by " | ".
            if any(piece.strip() for piece in current):
                current.append(" | ")
        elif tag in BLOCK_TAGS or tag == "br":
            flush()
        if node.text and tag != "br":
            current.append(node.text)
        if len(node):
            pending.append((tag, node))
            pending.extend(reversed(node))
            continue
        if tag in BLOCK_TAGS and tag not in ("td", "th"):  # a leaf: left at once
            flush()
        if node.tail:
            current.append(node.tail)
    flush()
    return "\n".join(lines)


@lru_cache(maxsize=32)
def chrome_tokens(site_marks: tuple[str, ...] = ()) -> re.Pattern:
    """:data:`CHROME_TOKENS` and a site's own marks of furniture (lower-case regular expressions), compiled
    once per set of marks."""
    if not site_marks:
        return CHROME_TOKENS
    return re.compile("|".join((CHROME_TOKENS.pattern, *(f"(?:{mark})" for mark in site_marks))))


def is_chrome(node, tokens: re.Pattern = CHROME_TOKENS) -> bool:
    """Page furniture: navigation, sidebars, footers, share bars (``tokens``: see :func:`chrome_tokens`)."""
    if not isinstance(node.tag, str):
        return False
    if node.tag.lower() in CHROME_TAGS:
        return True
    marks = f"{node.get('class') or ''} {node.get('id') or ''} {node.get('role') or ''}".lower().split()
    return any(tokens.search(token) for token in marks)


def in_chrome(node, tokens: re.Pattern = CHROME_TOKENS) -> bool:
    return any(is_chrome(ancestor, tokens) for ancestor in (node, *node.iterancestors()))


def content_root(tree, texts: list[str]):
    """The smallest element holding both the first and the last extracted paragraph.

    Found in one pass over text nodes, so it stays linear in the page size.
    """
    if not texts:
        return None
    first, last = text_owner(tree, texts[0]), text_owner(tree, texts[-1])
    if first is None or last is None:
        found = first if first is not None else last
        return found.getparent() if found is not None else None
    ancestors_of_last = {last, *last.iterancestors()}
    for node in (first, *first.iterancestors()):
        if node in ancestors_of_last:
            # A single paragraph: one level up, so that its neighbouring images count.
            if node.tag in ("p", "span", "b", "strong", "em", "i") and node.getparent() is not None:
                return node.getparent()
            return node
    return None


def common_ancestor(first, second):
    """The lowest element holding both (``first`` itself when ``second`` is ``None``)."""
    if second is None:
        return first
    ancestors = {id(node) for node in (second, *second.iterancestors())}
    for node in (first, *first.iterancestors()):
        if id(node) in ancestors:
            return node
    return first


def text_owner(tree, paragraph: str):
    """The element whose own text (or a child's tail) starts ``paragraph``."""
    line = clean_line(paragraph)
    texts = per_tree(tree, ("own texts",), lambda: _own_texts(tree))
    # The paragraph's start, else its first few words (inline markup splits text nodes).
    for probe in dict.fromkeys((line[:30], line[:12].strip())):
        if not probe:
            continue
        for text, owner in texts:
            if probe in text:
                return owner
    return None


def _own_texts(tree) -> list:
    """(clean text, the element it belongs to) of every text and tail of the page, in document order, each
    cleaned once (the text of ``head``, ``title``, scripts and styles left out)."""
    texts = []
    for node in tree.iter():
        if not isinstance(node.tag, str) or node.tag in ("head", "title", "script", "style"):
            continue
        if node.text and not node.text.isspace():
            texts.append((clean_line(node.text), node))
        if node.tail and not node.tail.isspace() and node.getparent() is not None:
            texts.append((clean_line(node.tail), node.getparent()))
    return texts


# Compiled once: a path given as a string to .xpath() is compiled again at every call.
JSON_LD_SCRIPTS = etree.XPath('//script[@type="application/ld+json"]/text()')
MICRODATA_TYPES = etree.XPath("//@itemtype")
# An XHTML habit: the script's JSON wrapped in a CDATA section (an HTML parser keeps the markers as text),
# sometimes behind a script comment ("//<![CDATA[").
CDATA = re.compile(r"^\s*(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>\s*$")


def json_ld(tree) -> list[dict]:
    """The JSON-LD objects a page declares (malformed blocks are skipped); read once per tree (the date and
    the page's type both ask), not to be changed."""
    return per_tree(tree, ("json_ld",), lambda: _json_ld(tree))


def _json_ld(tree) -> list[dict]:
    objects = []
    for script in JSON_LD_SCRIPTS(tree):
        try:
            data = json.loads(CDATA.sub("", script))
        except ValueError:
            continue
        for node in data if isinstance(data, list) else [data]:
            if isinstance(node, dict):
                # A graph's members are the page's objects too (the article among its web page, site, author).
                graph = node.get("@graph")
                objects += [node, *(member for member in graph if isinstance(member, dict))] \
                    if isinstance(graph, list) else [node]
    return objects


def structured_type(tree) -> set[str]:
    """Lower-cased schema.org types declared by JSON-LD or microdata."""
    types = set()
    for node in json_ld(tree):
        value = node.get("@type")
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                types.add(item.lower())
    for itemtype in MICRODATA_TYPES(tree):
        types.add(itemtype.rstrip("/").rsplit("/", 1)[-1].lower())
    return types
