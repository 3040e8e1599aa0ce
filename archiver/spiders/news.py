"""The ``news`` spider: discovers and archives every article of a news site.

Navigation only: what a page *is* and what it *says* comes from
:mod:`archiver.extraction.pages` and :mod:`archiver.extraction.extract`; what the site looks like
comes from its profile (:mod:`archiver.profiles`).

    scrapy crawl news                                  # the profile's seeds
    scrapy crawl news -a start_urls=URL[,URL...]       # other seeds, same profile
    scrapy crawl news -a profile=path/to/site.toml     # another site
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, IgnoreRequest
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from ..crawl.incremental import Knowledge
from ..crawl.items import ArticleItem
from ..extraction.normalize import canonical_url
from ..extraction.pages import PageSummary, is_document_url, listing_root, next_page
from ..crawl.workers import PageExtractor, default_processes
from ..profiles import load_profile
from ..archive.storage import utc_now

ARTICLE_PRIORITY, PAGINATION_PRIORITY, OTHER_PRIORITY = 20, 10, 0
MAX_URL_LENGTH = 1000
MAX_PATH_SEGMENTS = 12
SCOPE_VERDICTS_KEPT = 100_000  # links found out of scope, remembered (a bound on memory)


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, start_urls: str | None = None, profile: str | None = None, full: str = "0", **kwargs):
        super().__init__(**kwargs)
        self.start_urls_argument = start_urls
        self.profile_name = profile
        self.full = full.lower() in ("1", "true", "yes")

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        contact = settings.get("ARCHIVER_CONTACT")
        agent = settings.get("USER_AGENT", "")
        if contact and contact not in agent:
            agent = agent[:-1] + f"; contact: {contact})" if agent.endswith(")") else f"{agent} (contact: {contact})"
            settings.set("USER_AGENT", agent, priority="spider")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.configure(crawler.settings)
        return spider

    def configure(self, settings) -> None:
        self.profile = load_profile(self.profile_name or settings.get("SITE_PROFILE"))
        seeds = self.start_urls_argument.split(",") if self.start_urls_argument else self.profile.start_urls
        self.seeds = [canonical_url(url, self.profile) for url in seeds if url.strip()]
        if not self.seeds:
            raise ValueError("no seeds: give -a start_urls=URL[,URL...] or a profile with start_urls")
        self.hosts = {urlsplit(url).netloc for url in self.seeds}
        # Scrapy's OffsiteMiddleware works on host names; ours also checks ports.
        self.allowed_domains = sorted({urlsplit(url).hostname for url in self.seeds})
        self.barren_limit = settings.getint("LISTING_BARREN_LIMIT")
        self.depth_limit = settings.getint("DEPTH_LIMIT")
        self.scheduled: set[str] = set()
        self.scope_verdicts: dict[str, str] = {}  # link -> why it is out of scope
        # How a listing first showed each article (headline, date, listing), kept with the article.
        self.first_teasers: dict[str, tuple] = {}
        self.run = self.crawl_state = None
        self.conditional = False
        self.mode = "full" if self.full else "first"
        self.knowledge = Knowledge({}, self.mode)
        self.vanished_checked = False
        processes = settings.get("EXTRACTION_PROCESSES", "auto")
        processes = default_processes() if str(processes).lower() == "auto" else int(processes)
        self.extractor = PageExtractor(self.profile_name or settings.get("SITE_PROFILE"), processes)
        self.crawler.signals.connect(self.extractor.close, signal=signals.spider_closed)
        self.crawler.signals.connect(self.open_run, signal=signals.spider_opened)
        self.crawler.signals.connect(self.check_vanished, signal=signals.spider_idle)
        self.crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)

    def open_run(self, spider):
        """Learn what earlier runs archived (the run's archive exists once the spider is open)."""
        self.run = getattr(self.crawler, "archive_run", None)
        self.crawl_state = self.run.state if self.run is not None and not self.run.locked else None
        known = self.crawl_state.known_articles() if self.crawl_state is not None else {}
        if self.full:
            mode = "full"
        elif self.run is not None and getattr(self.run, "interrupted_run", None):
            mode = "complete"
        elif not known:
            mode = "first"
        else:
            mode = "incremental"
        self.mode = mode
        # Conditional requests only after a run that finished: a dead run may have stored a listing's
        # ETag but not the links it led to, and a 304 would hide them.
        self.conditional = self.crawl_state is not None and mode in ("incremental", "full") \
            and not self.run.interrupted_run
        if self.crawl_state is not None:
            self.knowledge = Knowledge(known, mode, self.crawl_state.fetched_pages(), self.crawl_state.aliases())
        else:
            self.knowledge = Knowledge(known, mode)
        self.logger.info("Profile %s, %s crawl (%d article URLs archived), seeds: %s", self.profile.name, mode,
                         len(known), ", ".join(self.seeds))

    async def start(self):
        if self.run is not None and self.run.locked:
            raise CloseSpider("locked")
        self.crawler.stats.set_value("archiver/seeds", len(self.seeds))
        starts = [(url, {"seed": True}) for url in self.seeds]
        if self.crawl_state is not None and self.mode != "first":
            # Sections found by earlier runs, and what a dead run left unfinished.
            starts += [(url, {}) for url in self.crawl_state.listing_roots(self.profile)]
            if self.run.interrupted_run:
                unfinished = self.crawl_state.unfinished()
                self.logger.info("Resuming %d URLs that interrupted runs left (the last: run %d)", len(unfinished),
                                 self.run.interrupted_run)
                starts += [(url, {}) for url in unfinished]
        for url, meta in starts:
            # A seed is fetched whatever the profile's paths allow (a home page is a fine start): its links are
            # judged as any page's.
            if url not in self.scheduled and (meta.get("seed") and not is_document_url(url) or self.in_scope(url)):
                yield self.request(url, barren=0, priority=OTHER_PRIORITY, **meta)

    def request(self, url: str, barren: int, priority: int, pagination: bool = False, referer: str = "",
                teaser: tuple | None = None, seed: bool = False, dont_filter: bool = False, depth: int = 0):
        self.scheduled.add(url)
        headers = {}
        if self.crawl_state is not None:
            self.crawl_state.mark(url, "seen")
        # A full run reads every listing again (a listing answering 304 shows no links to follow); its articles
        # may still answer 304, which says they are unchanged.
        if self.conditional and (self.mode != "full" or self.profile.looks_like_article_url(url)):
            etag, last_modified = self.crawl_state.validators(url)
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        return scrapy.Request(url, callback=self.parse, errback=self.failed, priority=priority, headers=headers,
                              dont_filter=dont_filter,
                              meta={"barren": barren, "pagination": pagination, "source": referer,
                                    "teaser": teaser, "seed": seed, "depth": depth})

    # -- responses ---------------------------------------------------------

    async def parse(self, response):
        url = canonical_url(response.url, self.profile)
        if response.status == 304:
            self.crawler.stats.inc_value("archiver/not_modified")
            self.mark(url, "fetched", response)
            if url in self.knowledge.known and self.crawl_state is not None:
                self.crawler.stats.inc_value("archiver/not_modified/article")
                self.crawl_state.touch(url)
                if response.meta.get("vanished"):  # unchanged, so still the article: only unlisted
                    self.crawl_state.record_removal(url, "vanished from listing, the page still there", 304)
            return
        if response.status in (404, 410):
            self.gone(url, response)
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
        if not isinstance(response, TextResponse) or (content_type and "html" not in content_type):
            self.crawler.stats.inc_value("archiver/skipped/not_html")
            self.logger.info("Not an HTML page (%s), skipped: %s", content_type or "no type", response.url)
            self.mark(url, "fetched", response, kind="other")
            return
        # Listings lead to more pages: their extraction goes first when pages wait for a worker.
        urgent = not self.profile.looks_like_article_url(url)
        page = await self.extractor.summarize(response.url, response.text, priority=int(urgent))
        if response.meta.get("vanished"):
            self.vanished_answer(url, response, page)
        if page.problem:
            self.crawler.stats.inc_value("archiver/skipped/bad_body")
            self.logger.warning("Unusable page (%s), skipped: %s", page.problem, response.url)
            self.mark(url, "fetched", response, kind="error")
            return
        article = page.article
        if article.is_article:
            self.crawler.stats.inc_value("archiver/pages/article")
            self.mark(url, "fetched", response, kind="article")
            teaser = response.meta.get("teaser") or self.first_teasers.get(url)
            yield ArticleItem.from_article(article, fetched_at=utc_now(), status=response.status,
                                           aliases=self.requested_urls(response), teaser=teaser,
                                           warc=response.meta.get("warc_record"), documents=page.documents,
                                           search_stems=page.search_stems)
        elif article.reason == "listing page":
            self.crawler.stats.inc_value("archiver/pages/listing")
            self.mark(url, "fetched", response, kind="listing")
        else:
            self.crawler.stats.inc_value("archiver/pages/other")
            self.logger.info("Not an article (%s): %s", article.reason, response.url)
            self.mark(url, "fetched", response, kind="other")
        for request in self.follow_links(page, response, is_article=article.is_article, is_listing=page.is_listing):
            yield request

    def mark(self, url: str, state: str, response, kind: str | None = None) -> None:
        if self.crawl_state is None:
            return
        headers = response.headers
        self.crawl_state.mark(url, state, kind=kind, http_status=response.status,
                        etag=(headers.get("ETag") or b"").decode("latin-1") or None,
                        last_modified=(headers.get("Last-Modified") or b"").decode("latin-1") or None)

    def gone(self, url: str, response):
        self.crawler.stats.inc_value(f"archiver/gone/{response.status}")
        self.mark(url, "fetched", response, kind="error")
        if self.crawl_state is not None and self.crawl_state.record_removal(url, f"HTTP {response.status}", response.status):
            self.crawler.stats.inc_value("archiver/removals")
            self.logger.warning("Archived article gone (HTTP %d), kept in the archive: %s", response.status, url)
        else:
            self.logger.warning("Gone (HTTP %d): %s (linked from %s)", response.status, response.url,
                                response.meta.get("source") or "a seed")

    def vanished_answer(self, url: str, response, page: PageSummary) -> None:
        """An archived article gone from its listing answered with a page: still an article, it is only
        unlisted; not one any more (a "not found" page served with 200, an empty body), the article is gone."""
        reason = page.problem or page.article.reason
        if page.article.is_article and not page.problem:
            self.crawl_state.record_removal(url, "vanished from listing, the page still there", response.status)
        elif self.crawl_state.record_removal(url, f"vanished from listing, no longer an article ({reason})",
                                             response.status, gone=True):
            self.crawler.stats.inc_value("archiver/removals")
            self.logger.warning("Archived article gone (vanished from its listing, the page now %s), kept in the "
                                "archive: %s", reason, url)

    def request_dropped(self, request, spider):
        """A redirect that ends on a page already requested is dropped by the duplicate filter:
        its chain is kept, so the URLs it came through become aliases of that page's article."""
        chain = request.meta.get("redirect_urls")
        if chain and self.crawl_state is not None:
            self.crawl_state.note_redirect([canonical_url(url, self.profile) for url in chain],
                                           canonical_url(request.url, self.profile))

    def requested_urls(self, response) -> list[str]:
        """The URLs that led here: the one requested and every redirect on the way."""
        urls = [*response.meta.get("redirect_urls", []), response.url]
        return [canonical_url(url, self.profile) for url in urls]

    def follow_links(self, page: PageSummary, response, is_article: bool, is_listing: bool):
        barren = response.meta.get("barren", 0)
        depth = response.meta.get("depth", 0)
        # Only a listing's entries describe articles; a sidebar's teasers do not.
        teasers = page.teasers if is_listing else {}
        listing = listing_root(page.url, self.profile)
        for url, teaser in teasers.items():
            self.knowledge.note_listing_entry(listing, page.url, url, teaser)
            self.first_teasers.setdefault(url, (*teaser, listing))
            if self.crawl_state is not None and url in self.knowledge.known:
                self.crawl_state.note_listing_entry(url, teaser[0], teaser[1], listing)
        # A link already scheduled passed the scope check then: only new ones are checked.
        rejected = Counter()
        links = [link for link in page.links if link.url in self.scheduled or self.in_scope(link.url, rejected)]
        stats = self.crawler.stats
        for reason, count in rejected.items():
            stats.inc_value(f"archiver/links/{reason}", count)
        wanted = [link for link in links if link.url not in self.scheduled
                  and (not link.looks_like_article or self.knowledge.wants(link.url, teasers.get(link.url), listing))]
        if not is_article:
            # A listing that brings no new headline link counts towards the
            # barren limit, past which none of its links but headlines are
            # followed. This ends Bitrix's endless "last page again" pagination
            # and any calendar-like space of pages leading nowhere.
            if self.knowledge.judges_listings_by_archive:
                judge = [link for link in wanted if self.knowledge.is_news(link.url)
                         or self.knowledge.entry_changed(link.url, teasers.get(link.url), listing)]
            else:
                judge = [link for link in links if link.url not in self.scheduled]
            news = [link for link in judge if link.is_headline]
            barren = 0 if news else barren + 1
            if news:
                self.logger.debug("Listing %s brings %d new articles, e.g. %s", response.url, len(news), news[0].url)
            # Paging goes one page at a time (that page's pager leads on), and
            # stops after `barren_limit` pages in a row without news.
            following = next_page(page.url, wanted, self.profile) if barren < self.barren_limit else []
            wanted = [link for link in wanted if (link in following if link.is_pagination else
                                                  link.is_headline or barren < self.barren_limit)]
        for link in wanted:
            # Depth counts links followed from a seed; the next page of a listing is not a level deeper.
            link_depth = depth + (not link.is_pagination)
            if self.depth_limit and link_depth > self.depth_limit:
                stats.inc_value("archiver/links/too_deep")
                continue  # not marked as scheduled: a shorter path may still reach it
            stats.max_value("request_depth_max", link_depth)
            if link.looks_like_article:
                priority = ARTICLE_PRIORITY
            elif link.is_pagination:
                priority = PAGINATION_PRIORITY
            else:
                priority = OTHER_PRIORITY
            teaser = teasers.get(link.url)
            yield self.request(link.url, barren=barren, priority=priority, pagination=link.is_pagination,
                               referer=response.url, teaser=(*teaser, listing) if teaser else None, depth=link_depth)

    def check_vanished(self):
        """Once the crawl is idle: confirm archived articles that vanished from the listings read."""
        if self.vanished_checked or self.crawl_state is None or self.mode == "first":
            return
        self.vanished_checked = True
        for listing, window in self.knowledge.windows.items():
            self.logger.debug("Read %s from %s back to %s", listing, window.newest, window.oldest)
        vanished = [url for url in self.knowledge.vanished() if url not in self.scheduled]
        for url in vanished:
            self.logger.warning("Archived article vanished from its listing, checking it: %s", url)
            request = self.request(url, barren=0, priority=ARTICLE_PRIORITY, dont_filter=True)
            request.meta["vanished"] = True  # what the page answers decides what is recorded (see parse())
            self.crawler.engine.crawl(request)
        if vanished:
            raise DontCloseSpider

    def in_scope(self, url: str, rejected: Counter | None = None) -> bool:
        """On a seed host, an HTML page the profile allows, and not a trap. A link out of scope is counted in
        the ``archiver/links/<reason>`` stats, or in ``rejected`` when the caller adds them up: a page's menus
        bring a dozen such links, and one stats call a reason costs a sixth of one a link."""
        reason = self.scope_verdicts.get(url)
        if reason is None:
            reason = self.out_of_scope(url)
            if reason is not None:  # menus and sidebars repeat the same links on every page
                if len(self.scope_verdicts) >= SCOPE_VERDICTS_KEPT:
                    self.scope_verdicts.clear()
                self.scope_verdicts[url] = reason
        if reason is not None:
            if rejected is None:
                self.crawler.stats.inc_value(f"archiver/links/{reason}")
            else:
                rejected[reason] += 1
            return False
        return True

    def out_of_scope(self, url: str) -> str | None:
        """Why a link is not followed (offsite, document, denied, trap), or None to follow it."""
        parts = urlsplit(url)
        if parts.netloc not in self.hosts:
            return "offsite"
        if is_document_url(url):
            return "document"
        if not self.profile.is_allowed_path(url) or self.profile.is_denied(url):
            return "denied"
        segments = [s for s in parts.path.split("/") if s]
        if len(url) > MAX_URL_LENGTH or len(segments) > MAX_PATH_SEGMENTS or \
                any(segments.count(s) > 2 for s in segments):
            return "trap"
        return None

    # -- failures ----------------------------------------------------------

    def failed(self, failure):
        request = failure.request
        stats = self.crawler.stats
        if request.meta.get("seed"):
            stats.inc_value("archiver/seeds_failed")
        if failure.check(HttpError):
            status = failure.value.response.status
            stats.inc_value(f"archiver/failed/http_{status}")
            self.logger.warning("HTTP %d, given up after retries: %s", status, request.url)
        elif failure.check(IgnoreRequest):
            stats.inc_value("archiver/failed/ignored")
            self.logger.info("Not fetched (%s): %s", failure.value, request.url)
        else:
            stats.inc_value(f"archiver/failed/{failure.type.__name__}")
            self.logger.warning("Could not fetch %s: %s: %s", request.url, failure.type.__name__,
                                failure.getErrorMessage())
        if self.crawl_state is not None:
            # Fetched, unsuccessfully: a later run finds it again through its listing.
            self.crawl_state.mark(canonical_url(request.url, self.profile), "fetched", kind="error")
