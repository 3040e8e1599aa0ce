"""The article's own images: which ``<img>`` of a page are content (not logos, icons,
counters or share buttons), their absolute source, ``alt`` text and caption; and the
documents (PDF, DOC...) the article links to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from w3lib.url import safe_url_string

from . import htmltree, hyperlinks
from .normalize import clean_line

DOCUMENT_EXTENSIONS = re.compile(rf"\.({hyperlinks.DOCUMENT_TYPES})$", re.IGNORECASE)
# Where an article's documents are looked for when the profile names no container (a profile's own
# container selectors are its documents' scope).
DOCUMENT_SCOPES = ("article", "main")
# Caption blocks are kept with the images (``images.caption``), then removed from the text.
CAPTION_SELECTORS = ("figcaption", ".photo-caption", ".caption", ".wp-caption-text")


@dataclass
class Image:
    src: str
    alt: str = ""
    caption: str | None = None
    position: int = 0


# Matched against the lower-cased marks, without IGNORECASE: the engine then skips ahead to the
# letters the words start with (2 µs for a long image URL instead of 22).
IMAGE_NOISE = re.compile(r"logo|icon|sprite|spacer|pixel|counter|banner|avatar|emoji|share|social|blank\.gif")
MIN_IMAGE_SIDE = 48


def collect_images(scope, base: str, keep=None) -> list[Image]:
    """The article's own images inside ``scope``: absolute ``src`` (the full-size photo where a thumbnail
    links to one), ``alt``, caption. ``keep(img)``, if given, says which ``<img>`` may be one."""
    images, seen = [], set()
    for img in scope.iter("img"):
        if keep is not None and not keep(img):
            continue
        src = image_source(img)
        if not src:
            continue
        marks = " ".join(filter(None, (src, img.get("class"), img.get("id"))))
        if IMAGE_NOISE.search(marks.lower()) or is_tiny(img, MIN_IMAGE_SIDE):
            continue
        absolute = hyperlinks.absolute_url(base, linked_image(img) or src)
        # "": an address no URL can be made of; only http(s) images are the article's (file:, ftp:... are
        # never fetched, nor kept as a source: docs/security.md)
        if not absolute.startswith(("http://", "https://")) or absolute in seen:
            continue
        seen.add(absolute)
        images.append(Image(src=absolute, alt=clean_line(img.get("alt") or ""),
                            caption=image_caption(img), position=len(images)))
    return images


IMAGE_FILE = re.compile(r"\.(jpe?g|png|gif|webp|avif|bmp|tiff?)$", re.IGNORECASE)


def linked_image(img) -> str | None:
    """The full-size photo a thumbnail links to (a gallery: ``<a href="photo.jpg"><img src="thumb.jpg">``)."""
    for depth, ancestor in enumerate(img.iterancestors()):
        if ancestor.tag == "a":
            href = (ancestor.get("href") or "").strip()
            return href if IMAGE_FILE.search(urlsplit(href).path) else None
        if depth == 2 or ancestor.tag not in ("span", "picture", "figure", "div"):
            return None
    return None


# Lazy-loading scripts keep the real image in one of these and a placeholder (a spinner, a blank GIF, a
# data: URI) in ``src`` until the image scrolls into view: the lazy attribute wins.
LAZY_SOURCES = ("data-src", "data-original", "data-lazy-src", "data-lazy")


def image_source(img) -> str | None:
    """The address of the image itself: a lazy-loading attribute, else ``src``, else the first of a srcset."""
    for attr in (*LAZY_SOURCES, "src", "data-srcset", "srcset"):
        value = (img.get(attr) or "").strip()
        if "srcset" in attr and value:
            value = value.split(",")[0].split()[0]
        if value and not value.startswith("data:"):
            return value
    return None


def is_tiny(img, minimum: int) -> bool:
    """Declared smaller than ``minimum`` pixels either way (a width in per cent or em says nothing of that)."""
    for attr in ("width", "height"):
        value = re.fullmatch(r"\s*(\d+)\s*(?:px)?\s*", img.get(attr) or "")
        if value and int(value.group(1)) < minimum:
            return True
    return False


def image_caption(img) -> str | None:
    """``<figcaption>`` of the image's figure, or the caption block right after it."""
    for ancestor in img.iterancestors():
        if ancestor.tag == "figure":
            caption = ancestor.find(".//figcaption")
            if caption is not None:
                return clean_line(caption.text_content()) or None
            break
    # The block right after the image, or after the link, paragraph or box holding it (two levels up:
    # <div class="detail-picture"><a href="photo.jpg"><img></a><div class="...-caption">).
    node = img
    for _ in range(3):
        following = node.getnext()
        if following is not None and CAPTION_MARKS.search(following.get("class") or ""):
            return clean_line(following.text_content()) or None
        node = node.getparent()
        if node is None or node.tag not in ("p", "a", "div", "span", "picture"):
            return None
    return None


CAPTION_MARKS = re.compile(r"caption|podpis|photo-desc", re.IGNORECASE)


def document_links(tree, url: str, container_selectors=()) -> list[dict]:
    """Documents linked inside the article's container (the profile's selectors), else anywhere
    in the page: ``{"url", "text"}``, the URL absolute and percent-encoded like images' ``src``."""
    # The container as extraction chooses it (a selector matching several elements is ambiguous).
    scope = htmltree.unique_match(tree, tuple(container_selectors) or DOCUMENT_SCOPES)
    if scope is None:
        scope = tree
    documents, seen = [], set()
    for link in scope.iter("a"):
        href = (link.get("href") or "").strip()
        try:
            # The extension is the href's own (joining and percent-encoding keep it): only the few
            # document links are made absolute.
            if not href or not DOCUMENT_EXTENSIONS.search(urlsplit(href).path):
                continue
            absolute = safe_url_string(urljoin(url, href))
        except ValueError:  # "http://[broken": not a link to anything
            continue
        if absolute.startswith(("http://", "https://")) and absolute not in seen:
            seen.add(absolute)
            documents.append({"url": absolute, "text": " ".join(" ".join(link.itertext()).split())})
    return documents
