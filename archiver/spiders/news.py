"""The ``news`` spider: discovers and archives every article of a news site.

Navigation only: seeds, links, pagination, back-links, scope (:mod:`archiver.spiders.scope`). What a
page *is* and *says* comes from extraction (:mod:`archiver.extraction.pages`, run by
:mod:`archiver.crawl.workers`); what the site looks like, from its profile (:mod:`archiver.profiles`).
The crawl's bookkeeping (:mod:`archiver.crawl.bookkeeping`) keeps the crawl state: the spider tells it
of each answer (signals ``page_read``, ``fetch_failed``) and consults what it knows of earlier runs.

    scrapy crawl news                                  # the profile's seeds
    scrapy crawl news -a start_urls=URL[,URL...]       # other seeds, same profile
    scrapy crawl news -a profile=path/to/site.toml     # another site
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import scrapy
from scrapy import signals

from ..clock import utc_now
from ..crawl.bookkeeping import ANSWERS_WITHOUT_PAGE, CrawlBookkeeping, fetch_failed, page_read
from ..crawl.incremental import Knowledge
from ..crawl.items import ArticleItem
from ..crawl.workers import PageExtractor, default_processes
from ..extraction.normalize import canonical_url
from ..extraction.pages import PageSummary, is_document_url, listing_root, next_page
from ..profiles import load_profile
from .discovery import Discovery
from .scope import LinkBounds, OutOfScope, is_html, out_of_scope
from .seeds import check_seeds

ARTICLE_PRIORITY, PAGINATION_PRIORITY, OTHER_PRIORITY = 20, 10, 0
STOPPING, STOP_CHECK_SECONDS = object(), 0.25  # a page left unread as the crawl stops (SIGTERM); checked this often


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, start_urls: str | None = None, profile: str | None = None, full: str = "0", **kwargs):
        super().__init__(**kwargs)
        self.start_urls_argument = start_urls
        self.profile_name = profile
        self.full = full.lower() in ("1", "true", "yes")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.configure(crawler.settings)
        return spider

    def configure(self, settings) -> None:
        self.profile = load_profile(self.profile_name or settings.get("SITE_PROFILE"))
        seeds = self.start_urls_argument.split(",") if self.start_urls_argument else self.profile.start_urls
        self.seeds = [canonical_url(url, self.profile) for url in check_seeds(u.strip() for u in seeds if u.strip())]
        if not self.seeds:
            raise ValueError("no seeds: give -a start_urls=URL[,URL...] or a profile with start_urls")
        self.hosts = {urlsplit(url).netloc for url in self.seeds}
        self.hubs = hub_urls(self.seeds, self.profile)
        # Scrapy's OffsiteMiddleware works on host names; ours also checks ports.
        self.allowed_domains = sorted({urlsplit(url).hostname for url in self.seeds})
        self.barren_limit = settings.getint("LISTING_BARREN_LIMIT")
        self.bounds = LinkBounds.from_settings(settings, self.crawler, self.logger)
        # Told to stop (SIGTERM), a crawl leaves the pages still to extract: "seen", the next run fetches them first.
        # Not where requests outlive the run (JOBDIR, a cluster's queue): they would be remembered as done.
        kept = settings.get("JOBDIR") or settings.getbool("SCHEDULER_PERSIST")
        self.stops_unread = self.crawler.crawling and not kept  # crawling: false outside a crawl (tests)
        self.scheduled: set[str] = set()
        self.out_of_scope_links = OutOfScope()
        # How a listing first showed each article (headline, date, listing), kept with the article.
        self.first_teasers: dict[str, tuple] = {}
        # What earlier runs archived: nothing, until start() takes what the bookkeeping read in the archive.
        self.knowledge = Knowledge({}, "full" if self.full else "first")
        processes = settings.get("EXTRACTION_PROCESSES", "auto")
        processes = default_processes() if str(processes).lower() == "auto" else int(processes)
        self.extractor = PageExtractor(self.profile_name or settings.get("SITE_PROFILE"), processes)
        self.crawler.signals.connect(self.extractor.close, signal=signals.spider_closed)
        # Sitemaps and feeds: one more way in, and signals of edits (spiders/discovery.py).
        self.discovery = Discovery(self, settings, ARTICLE_PRIORITY, OTHER_PRIORITY)

    async def start(self):
        try:  # what the bookkeeping read in the archive as the spider opened
            bookkeeping = self.crawler.get_spider_middleware(CrawlBookkeeping)
            self.knowledge = bookkeeping.knowledge if bookkeeping is not None else self.knowledge
        except RuntimeError:  # no crawl engine: start() on its own (`archiver seed`) knows nothing
            pass
        self.crawler.stats.set_value("archiver/seeds", len(self.seeds))
        # Then the sections earlier runs found, and what a dead run left unfinished.
        starts = [(url, {"seed": True}) for url in self.seeds] + [(url, {"hub": True}) for url in self.hubs] + \
            [(url, {}) for url in self.knowledge.revisits]
        for url, meta in starts:
            # A seed or hub is fetched whatever the profile's paths allow (a home page is a fine start): its links
            # are judged as any page's.
            if url not in self.scheduled and ((meta.get("seed") or meta.get("hub")) and not is_document_url(url)
                                              or self.in_scope(url)):
                yield self.request(url, barren=0, priority=OTHER_PRIORITY, **meta)

    def request(self, url: str, barren: int, priority: int, pagination: bool = False, referer: str = "",
                teaser: tuple | None = None, seed: bool = False, dont_filter: bool = False, depth: int = 0,
                undated: int = 0, hub: bool = False):
        self.scheduled.add(url)
        return scrapy.Request(url, callback=self.parse, errback=self.failed, priority=priority, dont_filter=dont_filter,
                              meta={"barren": barren, "pagination": pagination, "source": referer, "teaser": teaser,
                                    "seed": seed, "depth": depth, "undated": undated, "hub": hub})

    def check_again(self, url: str) -> scrapy.Request | None:
        """An archived article the bookkeeping checks (it vanished from its listing); None if requested already."""
        if url in self.scheduled:
            return None
        return self.request(url, barren=0, priority=ARTICLE_PRIORITY, dont_filter=True)

    async def parse(self, response):
        async for element in self.read_page(response):
            yield element
        if response.meta.get("seed"):  # then what its host publishes: sitemaps, feeds (spiders/discovery.py)
            async for request in self.discovery.after_seed(response):
                yield request

    async def read_page(self, response):
        url, page = canonical_url(response.url, self.profile), None
        if response.status not in ANSWERS_WITHOUT_PAGE and is_html(response):
            page = await self.summarize(response, urgent=not self.profile.looks_like_article_url(url))
            if page is STOPPING:
                return  # unread, still "seen": the next run fetches it first
        self.crawler.signals.send_catch_log(page_read, response=response, page=page, spider=self)
        if page is None or page.problem:
            return
        article = page.article
        if article.is_article and not response.meta.get("hub"):  # a hub is read for its links, never archived
            self.discovery.note_article(url)
            teaser = response.meta.get("teaser") or self.first_teasers.get(url)
            yield ArticleItem.from_article(article, fetched_at=utc_now(), status=response.status,
                                           aliases=self.requested_urls(response), teaser=teaser,
                                           warc=response.meta.get("warc_record"), documents=page.documents,
                                           search_stems=page.search_stems)
        for request in self.follow_links(page, response, is_article=article.is_article, is_listing=page.is_listing):
            yield request

    async def summarize(self, response, urgent: bool):
        """The page's summary (listings lead to more pages: ``urgent``, their extraction goes first when pages wait
        for a worker); ``STOPPING`` once the crawl is told to stop, its extraction not waited for."""
        summary = asyncio.ensure_future(self.extractor.summarize(
            response.url, response.body, priority=int(urgent), content_type=response.headers.get("Content-Type")))
        while not (self.stops_unread and not self.crawler.crawling):
            if (await asyncio.wait({summary}, timeout=STOP_CHECK_SECONDS))[0]:
                return summary.result()
        summary.cancel()
        return STOPPING

    def failed(self, failure):
        """A request that could not be fetched: the bookkeeping logs and records it."""
        self.crawler.signals.send_catch_log(fetch_failed, failure=failure, spider=self)

    def requested_urls(self, response) -> list[str]:
        """The URLs that led here: the one requested and every redirect on the way."""
        urls = [*response.meta.get("redirect_urls", []), response.url]
        return [canonical_url(url, self.profile) for url in urls]

    def follow_links(self, page: PageSummary, response, is_article: bool, is_listing: bool):
        barren, depth = response.meta.get("barren", 0), response.meta.get("depth", 0)
        # Only a listing's entries describe articles; a sidebar's teasers do not.
        teasers = page.teasers if is_listing else {}
        listing = listing_root(page.url, self.profile)
        for url, teaser in teasers.items():
            self.first_teasers.setdefault(url, (*teaser, listing))
        # A link already scheduled passed the scope check then: only new ones are checked.
        fresh = self.bounds.first_new_links(page.links, response.url, self.scheduled,
                                            lambda link_url: self.out_of_scope_links.judge(link_url, self.out_of_scope))
        # An endless tree of undated "articles" ends here (LinkBounds), before its links count as news below.
        undated = self.bounds.undated_chain(response.meta.get("undated", 0), page,
                                            self.profile.looks_like_article_url(canonical_url(page.url, self.profile)))
        fresh = self.bounds.untrapped(fresh, undated, response.url, self.knowledge.is_news)
        wanted = [link for link in fresh
                  if not link.looks_like_article or self.knowledge.wants(link.url, teasers.get(link.url), listing)]
        if not is_article:
            # A listing that brings no new headline link counts towards the barren limit, past which none of its
            # links but headlines are followed. This ends Bitrix's endless "last page again" pagination and any
            # calendar-like space of pages leading nowhere.
            news = [link for link in fresh if link.is_headline
                    and self.knowledge.brings_news(link.url, teasers.get(link.url), listing)]
            barren = 0 if news else barren + 1
            if news:
                self.logger.debug("Listing %s brings %d new articles, e.g. %s", response.url, len(news), news[0].url)
            # Paging goes one page at a time (that page's pager leads on), until `barren_limit` pages without news.
            following = next_page(page.url, wanted, self.profile) if barren < self.barren_limit else []
            wanted = [link for link in wanted if (link in following if link.is_pagination else
                                                  link.is_headline or barren < self.barren_limit)]
        # Depth counts links followed from a seed; the next page of a listing is not a level deeper.
        for link, link_depth in self.bounds.select(wanted, depth, self.knowledge.is_news):
            priority = ARTICLE_PRIORITY if link.looks_like_article else \
                PAGINATION_PRIORITY if link.is_pagination else OTHER_PRIORITY
            teaser = teasers.get(link.url)
            yield self.request(link.url, barren=barren, priority=priority, pagination=link.is_pagination,
                               referer=response.url, teaser=(*teaser, listing) if teaser else None, depth=link_depth,
                               undated=undated)

    def in_scope(self, url: str) -> bool:
        """On a seed host, an HTML page the profile allows, and not a trap. A link out of scope is counted in
        the ``archiver/links/<reason>`` stats (a page's links: by :meth:`LinkBounds.first_new_links`)."""
        reason = self.out_of_scope_links.judge(url, self.out_of_scope)
        if reason is not None:
            self.crawler.stats.inc_value(f"archiver/links/{reason}")
        return reason is None

    def out_of_scope(self, url: str) -> str | None:
        """Why a link is not followed (offsite, document, denied, trap), or None to follow it."""
        return out_of_scope(url, self.hosts, self.profile)


def hub_urls(seeds: list[str], profile) -> list[str]:
    """The pages read on every run for their links, never archived: the root page of every seed host, and the
    profile's ``hubs`` on those hosts (a profile's hubs on other hosts are the real site's, not a test
    replica's)."""
    roots = [f"{parts.scheme}://{parts.netloc}/" for parts in map(urlsplit, seeds)]
    listed = [canonical_url(url, profile) for url in profile.hubs]
    hosts = {urlsplit(url).netloc for url in seeds}
    hubs = [canonical_url(url, profile) for url in roots] + [url for url in listed if urlsplit(url).netloc in hosts]
    return [url for url in dict.fromkeys(hubs) if url not in seeds]
