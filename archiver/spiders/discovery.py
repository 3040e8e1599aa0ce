"""What the ``news`` spider reads besides links: the seed hosts' sitemaps and feeds (docs/crawling.md).

Both are one more way in, never a replacement for the listings: a URL they list is judged as a link (scope,
robots.txt, the profile's paths), and requested once the crawl is idle if no link of the run led to it, so that
the listings are read as they would be without (their entries kept with the articles, their paging ended by the
same barren pages); the rest is ignored and counted (``archiver/sitemap/ignored/<reason>``,
``archiver/feed/ignored/<reason>``). A feed's items are listing entries
(headline, date), so an archived article whose item changed is fetched again as from a listing. A sitemap's
``<lastmod>`` or a feed item's ``updated`` newer than an archived article's last fetch makes it due
(:mod:`archiver.crawl.change_signals`). Articles that no link of the run led to are counted in
``archiver/discovery/<source>_only``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from ..crawl.bookkeeping import CrawlBookkeeping
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
        # A run resumed from a JOBDIR does not read its seeds again (Scrapy's duplicate filter remembers them):
        # once idle, it reads a seed again for the hosts whose sitemaps it has not read.
        self.reread_seeds = bool(settings.get("JOBDIR")) and not settings.getbool("SCHEDULER_PERSIST")
        # In cluster mode what a worker found is queued at once: the shared queue outlives a worker that dies
        # before it is idle (and the cluster's idle is not one worker's).
        self.immediate = settings.getbool("SCHEDULER_PERSIST")
        self.feeds_read: set[str] = set()
        # URL -> the source that lists it, until the crawl is idle: then those no link led to are requested.
        self.pending: dict[str, str] = {}
        self.found: dict[str, str] = {}  # URL -> the source that led to it alone (requested once the crawl idled)
        self.only: set[str] = set()  # articles among them
        spider.crawler.signals.connect(self.request_pending, signal=signals.spider_idle)

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
        if self.immediate:
            self.remember_sitemaps()

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
        """A URL a sitemap or feed lists, judged as a listing's link. An archived article whose feed entry
        changed: a request now. A page the crawl may want: kept until the crawl is idle, when it is requested
        unless a link led to it (:meth:`request_pending`): the listings are read as without sitemaps (their
        entries, their barren pages), the sitemap adds what they do not show. None but for the first."""
        spider = self.spider
        url = canonical_url(url, self.profile)
        if url in spider.scheduled or url in self.pending:
            return None
        reason = spider.out_of_scope_links.judge(url, spider.out_of_scope)
        if reason is not None:
            self.stats.inc_value(f"archiver/{source}/ignored/{reason}")
            return None
        article_like = self.profile.looks_like_article_url(url)
        if teaser is not None:
            spider.first_teasers.setdefault(url, (*teaser, listing))
        if article_like and not spider.knowledge.wants(url, teaser, listing):
            return None
        if article_like and url in spider.knowledge.known:  # its entry in this feed changed
            self.stats.inc_value(f"archiver/{source}/changed_entries")
            return spider.request(url, barren=0, priority=self.priorities[0], referer=listing,
                                  teaser=(*teaser, listing) if teaser else None, depth=1)
        if self.immediate:
            return self.request_for(url, source)
        self.pending[url] = source
        return None

    def request_for(self, url: str, source: str):
        self.found[url] = source
        self.stats.inc_value(f"archiver/{source}/requested")
        priority = self.priorities[0] if self.profile.looks_like_article_url(url) else self.priorities[1]
        return self.spider.request(url, barren=0, priority=priority, referer=f"a {source}",
                                   teaser=self.spider.first_teasers.get(url), depth=1)

    def request_pending(self):
        """Once the crawl is idle (``spider_idle``): request what only sitemaps and feeds led to."""
        spider = self.spider
        if not spider.crawler.crawling:  # told to stop: the next run reads the sitemaps again
            return
        requests = [self.request_for(url, source) for url, source in self.pending.items()
                    if url not in spider.scheduled]
        self.pending.clear()
        if requests:
            spider.logger.info("%d pages only sitemaps or feeds lead to, requested now", len(requests))
        elif self.reread_seeds:
            self.reread_seeds = False
            unread = {f"{urlsplit(seed).scheme}://{urlsplit(seed).netloc}": seed for seed in reversed(spider.seeds)}
            requests = [spider.request(seed, barren=0, priority=self.priorities[1], seed=True, dont_filter=True)
                        for base, seed in unread.items() if base not in self.hosts_read]
            if requests:
                spider.logger.info("Resumed run: %d seeds read again for their hosts' sitemaps and feeds",
                                   len(requests))
        bookkeeping = spider.crawler.get_spider_middleware(CrawlBookkeeping)
        for request in requests:
            if bookkeeping is not None:
                bookkeeping.schedule(request)  # seen in the crawl state, as every request the spider yields
            spider.crawler.engine.crawl(request)
        self.remember_sitemaps()
        if requests:
            raise DontCloseSpider

    def remember_sitemaps(self) -> None:
        """The sitemaps read whole are remembered once what they lead to is requested (seen in the crawl state):
        a run that stops before is followed by one that reads them again."""
        for url in self.sitemaps.read_whole:
            self.signals.sitemap_read(url)
        self.sitemaps.read_whole.clear()

    def checks(self, signalled: dict[str, str], source: str) -> list:
        """Requests for the archived articles ``source`` signals as changed, as the revisit budget allows."""
        requests = []
        for url in self.signals.due_now({u: when for u, when in signalled.items()
                                         if u not in self.spider.scheduled}, source):
            request = self.spider.check_again(url)
            if request is not None:
                requests.append(request)
        return requests

    def note_article(self, url: str) -> None:
        """An article archived: counted when only a sitemap or feed led to it."""
        source = self.found.get(url)
        if source is not None and url not in self.only:
            self.only.add(url)
            self.stats.inc_value(f"archiver/discovery/{source}_only")
