"""The ``news`` spider: discovers and archives every article of a news site.

Navigation only: what a page *is* and what it *says* comes from
:mod:`archiver.pages` and :mod:`archiver.extract`; what the site looks like
comes from its profile (:mod:`archiver.profiles`).

    scrapy crawl news                                  # the profile's seeds
    scrapy crawl news -a start_urls=URL[,URL...]       # other seeds, same profile
    scrapy crawl news -a profile=path/to/site.toml     # another site
"""

from __future__ import annotations

from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from ..items import ArticleItem
from ..normalize import canonical_url
from ..pages import NewsPage, is_document_url
from ..profiles import load_profile
from ..storage import utc_now

ARTICLE_PRIORITY, PAGINATION_PRIORITY, OTHER_PRIORITY = 20, 10, 0
MAX_URL_LENGTH = 1000
MAX_PATH_SEGMENTS = 12


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, start_urls: str | None = None, profile: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.start_urls_argument = start_urls
        self.profile_name = profile

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
        self.scheduled: set[str] = set(self.seeds)
        self.logger.info("Profile %s, seeds: %s", self.profile.name, ", ".join(self.seeds))

    async def start(self):
        for url in self.seeds:
            yield self.request(url, barren=0, priority=OTHER_PRIORITY)

    def request(self, url: str, barren: int, priority: int, pagination: bool = False, referer: str = ""):
        return scrapy.Request(url, callback=self.parse, errback=self.failed, priority=priority,
                              meta={"barren": barren, "pagination": pagination, "source": referer})

    # -- responses ---------------------------------------------------------

    def parse(self, response):
        if response.status in (404, 410):
            self.crawler.stats.inc_value(f"archiver/gone/{response.status}")
            self.logger.warning("Gone (HTTP %d): %s (linked from %s)", response.status, response.url,
                                response.meta.get("source") or "a seed")
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
        if not isinstance(response, TextResponse) or (content_type and "html" not in content_type):
            self.crawler.stats.inc_value("archiver/skipped/not_html")
            self.logger.info("Not an HTML page (%s), skipped: %s", content_type or "no type", response.url)
            return
        page = NewsPage(response.url, response.text, self.profile)
        if page.problem:
            self.crawler.stats.inc_value("archiver/skipped/bad_body")
            self.logger.warning("Unusable page (%s), skipped: %s", page.problem, response.url)
            return
        article = page.article
        if article.is_article:
            self.crawler.stats.inc_value("archiver/pages/article")
            yield ArticleItem.from_article(article, fetched_at=utc_now(), status=response.status,
                                           aliases=self.requested_urls(response))
        elif article.reason == "listing page" or article.reason.startswith("body too short") and page.links:
            self.crawler.stats.inc_value("archiver/pages/listing")
        else:
            self.crawler.stats.inc_value("archiver/pages/other")
            self.logger.info("Not an article (%s): %s", article.reason, response.url)
        yield from self.follow_links(page, response, is_article=article.is_article)

    def requested_urls(self, response) -> list[str]:
        """The URLs that led here: the one requested and every redirect on the way."""
        urls = [*response.meta.get("redirect_urls", []), response.url]
        return [canonical_url(url, self.profile) for url in urls]

    def follow_links(self, page: NewsPage, response, is_article: bool):
        barren = response.meta.get("barren", 0)
        depth = response.meta.get("depth", 0)
        new_links = [link for link in page.links if link.url not in self.scheduled and self.in_scope(link.url)]
        if not is_article:
            # A listing that brings no new headline link counts towards the
            # barren limit; past it, its pagination and other links are not
            # followed. This ends Bitrix's endless "last page again" pagination
            # and any calendar-like space of pages that leads nowhere new.
            barren = 0 if any(link.is_headline for link in new_links) else barren + 1
            if barren > self.barren_limit:
                self.logger.debug("No new articles for %d listing pages, not following %s further",
                                  barren, response.url)
                new_links = [link for link in new_links if link.is_headline]
        for link in new_links:
            if self.depth_limit and depth + (not link.is_pagination) > self.depth_limit:
                self.crawler.stats.inc_value("archiver/links/too_deep")
                continue  # not marked as scheduled: a shorter path may still reach it
            self.scheduled.add(link.url)
            if link.looks_like_article:
                priority = ARTICLE_PRIORITY
            elif link.is_pagination:
                priority = PAGINATION_PRIORITY
            else:
                priority = OTHER_PRIORITY
            yield self.request(link.url, barren=barren, priority=priority, pagination=link.is_pagination,
                               referer=response.url)

    def in_scope(self, url: str) -> bool:
        """On a seed host, an HTML page the profile allows, and not a trap."""
        parts = urlsplit(url)
        stats = self.crawler.stats
        if parts.netloc not in self.hosts:
            stats.inc_value("archiver/links/offsite")
            return False
        if is_document_url(url):
            stats.inc_value("archiver/links/document")
            return False
        if not self.profile.is_allowed_path(url) or self.profile.is_denied(url):
            stats.inc_value("archiver/links/denied")
            return False
        segments = [s for s in parts.path.split("/") if s]
        if len(url) > MAX_URL_LENGTH or len(segments) > MAX_PATH_SEGMENTS or \
                any(segments.count(s) > 2 for s in segments):
            stats.inc_value("archiver/links/trap")
            return False
        return True

    # -- failures ----------------------------------------------------------

    def failed(self, failure):
        request = failure.request
        stats = self.crawler.stats
        if failure.check(HttpError):
            status = failure.value.response.status
            stats.inc_value(f"archiver/failed/http_{status}")
            self.logger.error("HTTP %d, given up after retries: %s", status, request.url)
        elif failure.check(IgnoreRequest):
            stats.inc_value("archiver/failed/ignored")
            self.logger.info("Not fetched (%s): %s", failure.value, request.url)
        else:
            stats.inc_value(f"archiver/failed/{failure.type.__name__}")
            self.logger.error("Could not fetch %s: %s: %s", request.url, failure.type.__name__,
                              failure.getErrorMessage())
