"""Downloader middlewares of the archiver project: retry backoff and the redirect-loop guard."""

from __future__ import annotations

import logging
from urllib.parse import urljoin

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater
from w3lib.url import safe_url_string


logger = logging.getLogger(__name__)


class RetryBackoffMiddleware:
    """Wait before each retry: ``RETRY_BACKOFF_BASE * 2**(n-1)`` seconds, capped.

    Scrapy's RetryMiddleware re-schedules a failed request at once; a server
    that answers 503 or times out deserves a pause first.
    """

    def __init__(self, base: float, cap: float):
        self.base, self.cap = base, cap

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getfloat("RETRY_BACKOFF_BASE"), crawler.settings.getfloat("RETRY_BACKOFF_MAX"))

    async def process_request(self, request):
        attempt = request.meta.get("retry_times", 0)
        if attempt and self.base > 0:
            delay = min(self.cap, self.base * 2 ** (attempt - 1))
            logger.info("Retry %d of %s in %.1fs", attempt, request.url, delay)
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return None


class RedirectGuardMiddleware:
    """Turn redirect loops and over-long chains into one clear warning.

    Placed after RedirectMiddleware (it sees responses first): otherwise a
    loop ends silently in the duplicate filter.
    """

    def __init__(self, max_times: int):
        self.max_times = max_times

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getint("REDIRECT_MAX_TIMES"))

    def process_response(self, request, response):
        location = response.headers.get("Location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        try:
            target = safe_url_string(urljoin(request.url, location.decode("latin-1")))
        except ValueError:  # a Location no URL can be made of: RedirectMiddleware's request fails, logged
            return response
        chain = [*request.meta.get("redirect_urls", []), request.url]
        # The URLs as requested, not their canonical forms: /x/ -> /x/index.php is one page moving to its
        # other name (stored under /x/), not a loop.
        if target in {safe_url_string(url) for url in chain}:
            logger.warning("Redirect loop, giving up: %s -> %s", " -> ".join(chain), target)
            raise IgnoreRequest("redirect loop")
        if len(chain) > self.max_times:
            logger.warning("Redirect chain longer than %d, giving up: %s", self.max_times, " -> ".join(chain))
            raise IgnoreRequest("too many redirects")
        return response

