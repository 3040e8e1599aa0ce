"""What the ``news`` spider reads besides links: the seed hosts' sitemaps and feeds (docs/crawling.md).

Both are one more way in, never a replacement for the listings: a URL they list is judged as a link (scope,
robots.txt, the profile's paths) and scheduled like a listing's link; the rest is ignored and counted
(``archiver/sitemap/ignored/<reason>``, ``archiver/feed/ignored/<reason>``). A feed's items are listing entries
(headline, date), so an archived article whose item changed is fetched again as from a listing. A sitemap's
``<lastmod>`` or a feed item's ``updated`` newer than an archived article's last fetch makes it due
(:mod:`archiver.crawl.change_signals`). Articles that no link of the run led to are counted in
``archiver/discovery/<source>_only``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ..crawl.change_signals import ChangeSignals
from ..extraction.feeds import FeedError, alternate_feeds, read_feed
from ..extraction.normalize import canonical_url
from .scope import is_html
from .sitemaps import CappedFetcher, SitemapReader

SOURCES = ("sitemap", "feed")


class Discovery:
    def __init__(self, spider, settings, article_priority: int, other_priority: int):
        self.spider, self.profile = spider, spider.profile
        self.priorities = (article_priority, other_priority)
        self.sitemaps_on = settings.getbool("SITEMAPS_ENABLED") and self.profile.sitemaps
        self.feeds_on = settings.getbool("FEEDS_ENABLED") and self.profile.feeds
        self.fetcher = CappedFetcher(spider, settings.getint("SITEMAP_MAX_BYTES"))
        self.signals = ChangeSignals(spider.crawler, spider.logger)
        self.sitemaps = SitemapReader(self.fetcher, settings.getint("SITEMAP_MAX_DEPTH"),
                                      settings.getint("SITEMAP_MAX_FILES"), None if spider.full else self.signals)
        self.hosts_read: set[str] = set()
        self.feeds_read: set[str] = set()
        self.found: dict[str, str] = {}  # URL -> the source that scheduled it, while no link led to it
        self.only: set[str] = set()  # articles among them

    @property
    def stats(self):  # the crawler's, once the crawl starts
        return self.spider.crawler.stats

    async def after_seed(self, response):
        """Requests for what the seed's host publishes, read once a run by whichever process reads a seed of the
        host (in cluster mode, the worker that took it): its sitemaps, the profile's feeds on it, and the feeds
        the seed page links. A seed that answered 304 still leads to its host's sitemaps and feeds."""
        if not self.spider.crawler.crawling:  # told to stop
            return
        parts = urlsplit(response.url)
        base = f"{parts.scheme}://{parts.netloc}"
        if parts.netloc in self.spider.hosts and base not in self.hosts_read:
            self.hosts_read.add(base)
            if self.sitemaps_on:
                async for request in self.from_sitemaps(base):
                    yield request
            if self.feeds_on:
                for url in self.profile.feed_urls:
                    async for request in self.from_feed(canonical_url(url if "//" in url else base + url,
                                                                      self.profile)):
                        yield request
        if self.feeds_on and response.status == 200 and is_html(response):
            for url in alternate_feeds(response.body, response.url):
                async for request in self.from_feed(canonical_url(url, self.profile)):
                    yield request

    async def from_sitemaps(self, base: str):
        signalled: dict[str, str] = {}
        async for loc, lastmod in self.sitemaps.entries(base):
            request = self.consider(loc, "sitemap", None, "")
            if request is not None:
                yield request
            elif lastmod and self.is_known(loc):
                signalled[canonical_url(loc, self.profile)] = lastmod
        for request in self.checks(signalled, f"Sitemaps of {base}"):
            yield request

    async def from_feed(self, url: str):
        if url in self.feeds_read:
            return
        self.feeds_read.add(url)
        body = await self.fetcher.body(url, "feed")
        if body is None:
            return
        try:
            entries = read_feed(body, url)
        except FeedError as error:
            self.stats.inc_value("archiver/feed/broken")
            self.spider.logger.warning("Not a feed (%s): %s", error, url)
            return
        signalled: dict[str, str] = {}
        for entry in entries:
            request = self.consider(entry.url, "feed", (entry.title, entry.date), url)
            if request is not None:
                yield request
            elif entry.updated and self.is_known(entry.url):
                signalled[canonical_url(entry.url, self.profile)] = entry.updated
        for request in self.checks(signalled, f"Feed {url}"):
            yield request

    def is_known(self, url: str) -> bool:
        return canonical_url(url, self.profile) in self.spider.knowledge.known

    def consider(self, url: str, source: str, teaser: tuple | None, listing: str):
        """A request for a URL a sitemap or feed lists, judged as a listing's link; None when not wanted."""
        spider = self.spider
        url = canonical_url(url, self.profile)
        if url in spider.scheduled:
            return None
        reason = spider.out_of_scope_links.judge(url, spider.out_of_scope)
        if reason is not None:
            self.stats.inc_value(f"archiver/{source}/ignored/{reason}")
            return None
        article_like = self.profile.looks_like_article_url(url)
        if article_like and not spider.knowledge.wants(url, teaser, listing):
            return None
        if teaser is not None:
            spider.first_teasers.setdefault(url, (*teaser, listing))
        self.found.setdefault(url, source)
        self.stats.inc_value(f"archiver/{source}/scheduled")
        priority = self.priorities[0] if article_like else self.priorities[1]
        return spider.request(url, barren=0, priority=priority, referer=listing or f"a {source}",
                              teaser=(*teaser, listing) if teaser else None, depth=1)

    def checks(self, signalled: dict[str, str], source: str) -> list:
        """Requests for the archived articles ``source`` signals as changed, as the revisit budget allows."""
        requests = []
        for url in self.signals.due_now({u: when for u, when in signalled.items()
                                         if u not in self.spider.scheduled}, source):
            request = self.spider.check_again(url)
            if request is not None:
                requests.append(request)
        return requests

    # -- what was found only through sitemaps and feeds -----------------------------------------------------

    def note_links(self, url: str, links) -> None:
        """A page's links: the URLs they lead to were not found only through a sitemap or feed (unless the page
        itself was: an article's link to its translation, or to itself)."""
        if not self.found or url in self.found:
            return
        for link in links:
            source = self.found.pop(link.url, None)
            if source is not None and link.url in self.only:
                self.only.discard(link.url)
                self.stats.inc_value(f"archiver/discovery/{source}_only", -1)

    def note_article(self, url: str) -> None:
        source = self.found.get(url)
        if source is not None and url not in self.only:
            self.only.add(url)
            self.stats.inc_value(f"archiver/discovery/{source}_only")
