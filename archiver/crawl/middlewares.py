"""Downloader middlewares of the archiver project: the scope guard (schemes, redirects, robots.txt of media
hosts), retry backoff and the redirect-loop guard."""

from __future__ import annotations

import logging
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater
from w3lib.url import safe_url_string

from ..extraction.normalize import canonical_url


logger = logging.getLogger(__name__)

# The only schemes ever downloaded (as archiver.spiders.scope says; settings.DOWNLOAD_HANDLERS turns Scrapy's
# others off).
HTTP_SCHEMES = ("http", "https")


def redirect_refusal(request, target: str, spider) -> str | None:
    """Why the redirect of ``request`` to ``target`` is not followed, by what the target's URL says, or None:
    another scheme than http(s), always; a page off the spider's ``hosts`` (host and port, the rule of its
    links); media out of the scope their request carries (``media_scope``, archiver.capture.media). A
    robots.txt may move anywhere over http(s) (RFC 9309)."""
    scheme = urlsplit(target).scheme
    if scheme not in HTTP_SCHEMES:
        return f"redirect to {scheme or 'a relative'}: URL, only http and https are downloaded"
    if is_robots_txt(request):
        return None
    media_scope = request.meta.get("media_scope")
    if media_scope is not None:
        reason = media_scope.refusal(target)
        return f"redirect to media out of scope ({reason})" if reason else None
    hosts, profile = getattr(spider, "hosts", None), getattr(spider, "profile", None)
    if hosts and profile is not None and urlsplit(canonical_url(target, profile)).netloc not in hosts:
        return "redirect to a host or port no seed has"
    return None


def is_robots_txt(request) -> bool:
    """A robots.txt request of Scrapy's RobotsTxtMiddleware (or a redirect of one)."""
    first = (request.meta.get("redirect_urls") or [request.url])[0]
    return bool(request.meta.get("dont_obey_robotstxt")) and urlsplit(first).path == "/robots.txt"


class ScopeGuardMiddleware:
    """First on the way to the downloader (before Scrapy's OffsiteMiddleware and RobotsTxtMiddleware):

    - only http and https are downloaded: any other scheme is refused here, with its reason, which the
      request's owner logs (``Not fetched (...)``, ``Media not fetched (...)``);
    - a redirected request stays in scope (:func:`redirect_refusal`): an HTTP redirect was checked by
      :class:`RedirectGuardMiddleware` already, a meta refresh was not, and the addresses of a media host
      name are only looked up here (``media_scope.full_refusal``);
    - the robots.txt of every host fetched from is read: OffsiteMiddleware would drop the robots.txt request
      of an off-site media host (it knows only the seeds' host names), and RobotsTxtMiddleware then takes
      the host as allowing everything. A robots.txt is only requested for a request already admitted.
    """

    def __init__(self, crawler):
        self.crawler, self.stats = crawler, crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        scheme = urlsplit(request.url).scheme
        if scheme not in HTTP_SCHEMES:
            self.stats.inc_value("archiver/refused_scheme")
            raise IgnoreRequest(f"{scheme}: URL refused, only http and https are downloaded")
        if is_robots_txt(request):
            request.meta["allow_offsite"] = True
            return None
        redirects = request.meta.get("redirect_urls")
        if not redirects:
            return None
        reason = redirect_refusal(request, request.url, self.crawler.spider)
        media_scope = request.meta.get("media_scope")
        if reason is None and media_scope is not None:
            reason = await media_scope.full_refusal(request.url)
            reason = f"redirect to media out of scope ({reason})" if reason else None
        if reason:
            self.stats.inc_value("archiver/redirects/out_of_scope")
            raise IgnoreRequest(f"{reason}, from {redirects[-1]}")
        return None


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
    """Turn redirect loops and over-long chains into one clear warning, and refuse a redirect out of scope
    (another scheme than http(s), a page on a host or port no seed has, media out of the media scope).

    Placed after RedirectMiddleware (it sees responses first): otherwise a
    loop ends silently in the duplicate filter, and a redirect to ``file:`` silently in RedirectMiddleware.
    """

    def __init__(self, max_times: int, crawler=None):
        self.max_times, self.crawler = max_times, crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getint("REDIRECT_MAX_TIMES"), crawler)

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
        reason = redirect_refusal(request, target, self.crawler.spider) if self.crawler else None
        if reason:  # the request's owner logs it (bookkeeping: "Not fetched (...)"), with the target
            self.crawler.stats.inc_value("archiver/redirects/out_of_scope")
            raise IgnoreRequest(f"{reason}: {target}")
        return response

