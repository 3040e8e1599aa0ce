"""The crawl's scope: which links the ``news`` spider may follow, and which answers it reads."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.http import TextResponse

from ..extraction.pages import is_document_url

MAX_URL_LENGTH = 1000
MAX_PATH_SEGMENTS = 12
OUT_OF_SCOPE_KEPT = 100_000  # links found out of scope, remembered (a bound on memory)


def out_of_scope(url: str, hosts: set[str], profile) -> str | None:
    """Why ``url`` is not followed, or None to follow it: ``offsite`` (not on one of ``hosts``, ports
    included), ``document`` (a file, not a page), ``denied`` (by the site's profile) or ``trap`` (too long,
    too deep, or a path repeating itself, as calendars and broken relative links make)."""
    parts = urlsplit(url)
    if parts.netloc not in hosts:
        return "offsite"
    if is_document_url(url):
        return "document"
    if not profile.is_allowed_path(url) or profile.is_denied(url):
        return "denied"
    segments = [s for s in parts.path.split("/") if s]
    if len(url) > MAX_URL_LENGTH or len(segments) > MAX_PATH_SEGMENTS or \
            any(segments.count(s) > 2 for s in segments):
        return "trap"
    return None


class OutOfScope:
    """The links found out of scope, and why: menus and sidebars repeat the same links on every page, each
    judged once (a link in scope is not remembered: the crawl schedules it at once)."""

    def __init__(self):
        self.reasons: dict[str, str] = {}

    def judge(self, url: str, reason_for) -> str | None:
        """Why ``url`` is out of scope, as remembered or as ``reason_for(url)`` says; None when it is in scope."""
        reason = self.reasons.get(url)
        if reason is None:
            reason = reason_for(url)
            if reason is not None:
                if len(self.reasons) >= OUT_OF_SCOPE_KEPT:
                    self.reasons.clear()
                self.reasons[url] = reason
        return reason


def is_html(response) -> bool:
    """An answer the spider reads: text, and HTML by its Content-Type (or with none)."""
    content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
    return isinstance(response, TextResponse) and (not content_type or "html" in content_type)
