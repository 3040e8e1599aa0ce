"""Page requisites: what an archived page needs to render, fetched so that replay shows the page as it was.

:class:`RequisitesMiddleware` is a spider middleware (``SPIDER_MIDDLEWARES`` 900, after the crawl's
bookkeeping, which never sees its requests). For every HTML page the spider read (articles, listings, other
pages), it requests the page's stylesheets, scripts, icons and images (``src``, ``srcset``, lazy ``data-src``
and ``data-srcset``, ``<source>``, ``poster``, ``url()`` in ``style``) and, for each stylesheet, the images,
fonts and stylesheets its ``url()`` and ``@import`` name. Only on the page's own hosts (the seeds'), each URL
once per run. Their answers go to the WARC files and the CDXJ index only (the downloader's
:class:`~archiver.capture.warc.WarcCaptureMiddleware` captures them, as a revisit when the payload is archived
already): no article row, no page in the crawl state, no page count. The stats count them apart
(``archiver/requisites/...``).

robots.txt is obeyed for them as for pages; ``REQUISITES_IGNORE_ROBOTS`` fetches those it disallows
(Scrapy's RobotsTxtMiddleware honours ``dont_obey_robotstxt``). ``REQUISITES_ENABLED`` turns them off.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import TextResponse
from scrapy.utils.response import get_base_url
from w3lib.url import safe_url_string

logger = logging.getLogger(__name__)

REQUISITE_PRIORITY = -10  # after every page: a page's own links lead the crawl on, its requisites do not
LINK_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload", "modulepreload", "manifest"}
IMAGE_ATTRIBUTES = ("src", "data-src", "data-original", "data-lazy-src", "poster")
SRCSET_ATTRIBUTES = ("srcset", "data-srcset")
CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.I)
CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.I)


def srcset_urls(value: str) -> list[str]:
    """The URLs of a ``srcset``: comma-separated candidates, each a URL and an optional descriptor."""
    urls = []
    for candidate in value.split(","):
        parts = candidate.strip().split()
        if parts:
            urls.append(parts[0])
    return urls


def css_urls(text: str) -> list[str]:
    """What a stylesheet (or a ``style`` attribute or element) loads: its ``url()`` and ``@import`` targets."""
    found = [next(group for group in match.groups() if group is not None) for match in CSS_URL.finditer(text)]
    found += [match.group(1) or match.group(2) for match in CSS_IMPORT.finditer(text)]
    return [url for url in found if url]


def html_requisites(html: str) -> list[str]:
    """The references (as written, relative or not) to what an HTML page needs to render."""
    from lxml import html as lxml_html

    try:
        tree = lxml_html.document_fromstring(html)
    except Exception:  # an empty or unparseable page needs nothing
        return []
    found: list[str] = []
    for element in tree.iter("link"):
        rels = set((element.get("rel") or "").lower().split())
        if rels & LINK_RELS and element.get("href"):
            found.append(element.get("href"))
    for element in tree.iter("script"):
        if element.get("src"):
            found.append(element.get("src"))
    # (an iframe is a page of its own, not a requisite)
    for element in tree.iter("img", "source", "video", "audio", "embed", "input"):
        if element.tag == "input" and (element.get("type") or "").lower() != "image":
            continue
        found += [element.get(name) for name in IMAGE_ATTRIBUTES if element.get(name)]
        for name in SRCSET_ATTRIBUTES:
            if element.get(name):
                found += srcset_urls(element.get(name))
    for element in tree.iter("style"):
        found += css_urls(element.text or "")
    for element in tree.xpath("//*[@style]"):
        found += css_urls(element.get("style"))
    return found


def absolute(reference: str, base: str) -> str | None:
    """``reference`` made absolute against ``base``, without its fragment; None if it is not http(s)."""
    reference = reference.strip()
    if not reference or reference.startswith(("data:", "javascript:", "#", "about:", "blob:")):
        return None
    url = safe_url_string(urljoin(base, reference))  # percent-encoded, as the media pipeline's URLs are
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def base_part(reference: str, base: str) -> str:
    """The part of ``base`` that ``reference``'s absolute URL depends on: none for an absolute URL, the scheme for
    ``//host/...``, scheme and host for ``/path``, all of it for a relative reference."""
    if reference.startswith(("http://", "https://")):
        return ""
    if reference.startswith("//"):
        return base.split(":", 1)[0]
    if reference.startswith("/"):
        scheme, netloc = urlsplit(base)[:2]
        return f"{scheme}://{netloc}"
    return base


class AbsoluteURLs:
    """:func:`absolute` remembered: a site's pages name the same template files over and over, and making a URL
    absolute and percent-encoded costs more than looking it up. Bounded: forgotten whole past ``limit`` entries."""

    def __init__(self, limit: int = 100_000):
        self.known: dict[tuple[str, str], str | None] = {}
        self.limit = limit

    def __call__(self, reference: str, base: str) -> str | None:
        reference = reference.strip()
        key = (reference, base_part(reference, base))
        if key not in self.known:
            if len(self.known) >= self.limit:
                self.known.clear()
            self.known[key] = absolute(reference, base)
        return self.known[key]


def is_stylesheet(response) -> bool:
    content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
    return "text/css" in content_type or urlsplit(response.url).path.lower().endswith(".css")


class RequisitesMiddleware:
    """Requests the requisites of every page the spider read (see the module's docstring)."""

    def __init__(self, crawler):
        settings = crawler.settings
        if not settings.getbool("REQUISITES_ENABLED", True) or not settings.getbool("WARC_ENABLED", True):
            raise NotConfigured("page requisites are off (REQUISITES_ENABLED, WARC_ENABLED)")
        self.crawler, self.stats = crawler, crawler.stats
        self.ignore_robots = settings.getbool("REQUISITES_IGNORE_ROBOTS", False)
        self.requested: set[str] = set()
        self.absolute = AbsoluteURLs()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def active(self) -> bool:
        """Only where the run captures WARC files (a single process's, or a cluster worker's own)."""
        from .warc import WarcCaptureMiddleware

        engine = getattr(self.crawler, "engine", None)
        middlewares = getattr(getattr(engine, "downloader", None), "middleware", None)
        for middleware in getattr(middlewares, "middlewares", ()):
            if isinstance(middleware, WarcCaptureMiddleware):
                return middleware.files is not None
        return False

    async def process_spider_output(self, response, result):
        # The page's media and documents are the media pipeline's downloads: not requested twice.
        media: set[str] = set()
        async for element in result:
            if isinstance(element, dict) or hasattr(element, "images"):
                media.update(self._media_urls(element))
            yield element
        self.requested |= media  # and never later as another page's requisites
        for request in self.requisites(response, media):
            yield request

    def requisites(self, response, media: set[str]) -> list[Request]:
        if response.status != 200 or not isinstance(response, TextResponse):
            return []
        spider = self.crawler.spider
        hosts = getattr(spider, "hosts", None)
        callback = getattr(response.request, "callback", None) if response.request is not None else None
        if not hosts or not self.active():
            return []
        if callback == self.fetched:  # a requisite: a stylesheet leads to its own
            if not is_stylesheet(response):
                return []
            references, base = css_urls(response.text), response.url
        elif callback == getattr(spider, "parse", None) and b"html" in response.headers.get("Content-Type", b"html"):
            references, base = html_requisites(response.text), get_base_url(response)
        else:
            return []
        requests = []
        for reference in references:
            url = self.absolute(reference, base)
            if url is None or url in self.requested or url in media:
                continue
            parts = urlsplit(url)
            if parts.netloc not in hosts or parts.path == "/robots.txt":
                continue
            self.requested.add(url)
            requests.append(Request(url, callback=self.fetched, errback=self.failed, priority=REQUISITE_PRIORITY,
                                    meta={"requisite": True, "dont_obey_robotstxt": self.ignore_robots}))
        self.stats.inc_value("archiver/requisites/requested", len(requests))
        return requests

    @staticmethod
    def _media_urls(item) -> set[str]:
        get = item.get if isinstance(item, dict) else lambda name, default=None: getattr(item, name, default)
        urls = {image.get("src") for image in get("images", None) or () if isinstance(image, dict)}
        urls |= {document.get("url") for document in get("documents", None) or () if isinstance(document, dict)}
        return {safe_url_string(url) for url in urls if url}

    def fetched(self, response):
        """A requisite's answer: captured already; counted here."""
        self.stats.inc_value("archiver/requisites/fetched")
        self.stats.inc_value(f"archiver/requisites/status/{response.status}")
        return None

    def failed(self, failure):
        """A requisite not fetched: refused (robots.txt, scope) or failed; never an error of the run."""
        request = getattr(failure, "request", None)
        if failure.check(IgnoreRequest):
            self.stats.inc_value("archiver/requisites/refused")
            logger.debug("Requisite not fetched (%s): %s", failure.value, getattr(request, "url", "?"))
        else:
            self.stats.inc_value("archiver/requisites/failed")
            logger.info("Requisite failed (%s): %s", failure.getErrorMessage(), getattr(request, "url", "?"))
