"""The crawl's bookkeeping: what each request and each answer means for the archive's crawl state.

A spider middleware (``SPIDER_MIDDLEWARES``) beside the ``news`` spider, which only navigates
(:mod:`archiver.spiders.news`). When the spider opens, it takes the run
(:class:`~archiver.crawl.runs.ArchiveRun`) and its crawl state, chooses the run's mode
(:func:`~archiver.crawl.incremental.run_mode`) and fills the
:class:`~archiver.crawl.incremental.Knowledge` of what earlier runs archived, which the spider
consults, read-only, to navigate (:attr:`CrawlBookkeeping.knowledge`).

How the spider and the bookkeeping talk:

- every request the spider yields (from ``start()`` and from its callback) passes here: it is marked
  ``seen`` in the crawl state and, after a run that finished, made conditional (``If-None-Match``,
  ``If-Modified-Since``);
- the spider's callback sends :data:`page_read` (``response``, ``page``) for each response, before it
  yields anything for it. ``page`` is the extraction's :class:`~archiver.extraction.pages.PageSummary`,
  or ``None`` when the response holds no page to read (one of :data:`ANSWERS_WITHOUT_PAGE`, or a body
  that is not HTML). The bookkeeping counts and logs what the page was (article, listing, other,
  unusable), marks it ``fetched`` with its kind, status and validators, touches an archived article
  that answered 304, records the removal of one that answered 404 or 410, or that vanished from its
  listing and answered, and notes the entries of a listing;
- the spider's errback sends :data:`fetch_failed` (``failure``) for each request it could not fetch.

On its own, once the crawl is idle (``spider_idle``), it checks the archived articles that vanished
from the listings this run read (the spider makes those requests: ``check_again``), and it keeps the
redirects that end on a page already requested (``request_dropped``): their URLs become aliases of
that page's article at the end of the run.

Its log lines are the spider's (logger ``news``): the crawl's log tells of its pages in one voice.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from ..archive.revisits import RevisitPolicy
from ..extraction.normalize import canonical_url
from ..extraction.pages import listing_root
from .incremental import Knowledge, run_mode
from .runs import ArchiveRun

# Signals the spider sends (see above).
page_read = object()
fetch_failed = object()
# Answers that hold no page to read: "not modified" (to a conditional request), and "gone".
ANSWERS_WITHOUT_PAGE = (304, 404, 410)
DEFAULT_REVISITS_PER_RUN = 0.02  # settings.REVISIT_MAX_PER_RUN, for settings without the project's


class CrawlBookkeeping:
    """Spider middleware: the crawl state of each request and answer, the run's mode, removals."""

    def __init__(self, crawler):
        self.crawler, self.stats = crawler, crawler.stats
        self.spider = self.profile = self.run = self.state = None
        self.mode = "first"
        self.conditional = False
        self.knowledge = Knowledge({}, self.mode)
        self.vanished_checked = False

    @classmethod
    def from_crawler(cls, crawler):
        bookkeeping = cls(crawler)
        for handler, signal in ((bookkeeping.spider_opened, signals.spider_opened),
                                (bookkeeping.check_vanished, signals.spider_idle),
                                (bookkeeping.request_dropped, signals.request_dropped),
                                (bookkeeping.record_page, page_read),
                                (bookkeeping.record_failure, fetch_failed)):
            crawler.signals.connect(handler, signal=signal)
        return bookkeeping

    def spider_opened(self, spider):
        """Learn what earlier runs archived (the run's archive is open once the spider is); choose the mode."""
        self.spider, self.profile = spider, spider.profile
        self.run = self.crawler.get_extension(ArchiveRun)
        self.state = self.run.state if self.run is not None and not self.run.locked else None
        known = self.state.known_articles() if self.state is not None else {}
        interrupted = self.run.interrupted_run if self.run is not None else None
        self.mode = run_mode(spider.full, bool(interrupted), bool(known))
        if self.run is not None:
            self.run.mode = self.mode
        # Conditional requests only after a run that finished: a dead run may have stored a listing's
        # ETag but not the links it led to, and a 304 would hide them.
        self.conditional = self.state is not None and self.mode in ("incremental", "full") and not interrupted
        spider.logger.info("Profile %s, %s crawl (%d article URLs archived), seeds: %s", self.profile.name,
                           self.mode, len(known), ", ".join(spider.seeds))
        if self.state is None:
            self.knowledge = Knowledge(known, self.mode)
            return
        self.state.revisit_policy = revisit_policy(self.crawler.settings)
        revisits = self._revisits() + self._due_articles() if self.mode != "first" else []
        self.knowledge = Knowledge(known, self.mode, self.state.fetched_pages(), self.state.aliases(), revisits)

    def _revisits(self) -> list[str]:
        """Sections found by earlier runs, and what a dead run left unfinished."""
        urls = self.state.listing_roots(self.profile) + self.state.to_refetch()  # captures a repair found lost
        if self.run.interrupted_run:
            unfinished = self.state.unfinished()
            self.spider.logger.info("Resuming %d URLs that interrupted runs left (the last: run %d)",
                                    len(unfinished), self.run.interrupted_run)
            urls += unfinished
        return urls

    def _due_articles(self) -> list[str]:
        """Archived articles due for a check (:mod:`archiver.archive.revisits`), the longest overdue first, up to
        the run's budget; none on a full run, which checks every article anyway."""
        if self.mode == "full":
            return []
        budget = revisit_budget(self.crawler.settings.get("REVISIT_MAX_PER_RUN", DEFAULT_REVISITS_PER_RUN),
                                self.state.live_articles())
        due, waiting = self.state.due_revisits(budget)
        self.stats.set_value("archiver/revisits/due", waiting)
        self.stats.set_value("archiver/revisits/requested", len(due))
        if waiting:
            self.spider.logger.info("Revisiting %d of the %d archived articles due (at most %d a run)", len(due),
                                    waiting, budget)
        return due

    # -- requests ------------------------------------------------------------

    async def process_start(self, start):
        if self.run is not None and self.run.locked:
            raise CloseSpider("locked")
        async for element in start:
            if isinstance(element, Request):
                self.schedule(element)
            yield element

    async def process_spider_output(self, response, result):
        async for element in result:
            if isinstance(element, Request):
                self.schedule(element)
            yield element

    def schedule(self, request: Request) -> None:
        """A request the crawl makes: ``seen`` in the crawl state and, where it may be, conditional."""
        if self.state is None:
            return
        url = request.url  # canonical: the spider requests canonical URLs only
        self.state.mark(url, "seen")
        # A full run reads every listing again (a listing answering 304 shows no links to follow); its articles
        # may still answer 304, which says they are unchanged.
        if self.conditional and (self.mode != "full" or self.profile.looks_like_article_url(url)):
            etag, last_modified = self.state.validators(url)
            if etag:
                request.headers["If-None-Match"] = etag
            if last_modified:
                request.headers["If-Modified-Since"] = last_modified

    def request_dropped(self, request):
        """A redirect that ends on a page already requested is dropped by the duplicate filter:
        its chain is kept, so the URLs it came through become aliases of that page's article."""
        chain = request.meta.get("redirect_urls")
        if chain and self.state is not None:
            self.state.note_redirect([canonical_url(url, self.profile) for url in chain],
                                     canonical_url(request.url, self.profile))

    # -- answers ---------------------------------------------------------------

    def record_page(self, response, page):
        """What the spider read (:data:`page_read`)."""
        with self._failing_the_run():
            url = canonical_url(response.url, self.profile)
            if response.status == 304:
                self._not_modified(url, response)
            elif response.status in ANSWERS_WITHOUT_PAGE:
                self._gone(url, response)
            elif page is None:
                content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
                self.stats.inc_value("archiver/skipped/not_html")
                self.spider.logger.info("Not an HTML page (%s), skipped: %s", content_type or "no type",
                                        response.url)
                self.mark(url, response, kind="other")
            else:
                self._page(url, response, page)

    def _not_modified(self, url: str, response) -> None:
        self.stats.inc_value("archiver/not_modified")
        self.mark(url, response)
        if url in self.knowledge.known and self.state is not None:
            self.stats.inc_value("archiver/not_modified/article")
            self.state.touch(url)
            if response.meta.get("vanished"):  # unchanged, so still the article: only unlisted
                self.state.record_removal(url, "vanished from listing, the page still there", 304)

    def _gone(self, url: str, response) -> None:
        self.stats.inc_value(f"archiver/gone/{response.status}")
        self.mark(url, response, kind="error")
        if self.state is not None and self.state.record_removal(url, f"HTTP {response.status}", response.status):
            self.stats.inc_value("archiver/removals")
            self.spider.logger.warning("Archived article gone (HTTP %d), kept in the archive: %s",
                                       response.status, url)
        else:
            self.spider.logger.warning("Gone (HTTP %d): %s (linked from %s)", response.status, response.url,
                                       response.meta.get("source") or "a seed")

    def _page(self, url: str, response, page) -> None:
        if response.meta.get("vanished"):
            self._vanished_answer(url, response, page)
        if page.problem:
            self.stats.inc_value("archiver/skipped/bad_body")
            self.spider.logger.warning("Unusable page (%s), skipped: %s", page.problem, response.url)
            self.mark(url, response, kind="error")
        elif page.article.is_article:
            self.stats.inc_value("archiver/pages/article")
            self.mark(url, response, kind="article")
        elif page.is_listing:
            self.stats.inc_value("archiver/pages/listing")
            self.mark(url, response, kind="listing")
            self._note_listing(page)
        else:
            self.stats.inc_value("archiver/pages/other")
            self.spider.logger.info("Not an article (%s): %s", page.article.reason, response.url)
            self.mark(url, response, kind="other")
        if not page.problem and not page.article.is_article:
            self._note_section_title(url, page)

    def _vanished_answer(self, url: str, response, page) -> None:
        """An archived article gone from its listing answered with a page: still an article, it is only
        unlisted; not one any more (a "not found" page served with 200, an empty body), the article is gone."""
        reason = page.problem or page.article.reason
        if page.article.is_article and not page.problem:
            self.state.record_removal(url, "vanished from listing, the page still there", response.status)
        elif self.state.record_removal(url, f"vanished from listing, no longer an article ({reason})",
                                       response.status, gone=True):
            self.stats.inc_value("archiver/removals")
            self.spider.logger.warning("Archived article gone (vanished from its listing, the page now %s), kept "
                                       "in the archive: %s", reason, url)

    def _note_listing(self, page) -> None:
        """The listing's entries: where this run read each listing (for vanished articles), and how a listing
        shows an archived article (to notice its edits without fetching it)."""
        listing = listing_root(page.url, self.profile)
        for url, teaser in page.teasers.items():
            self.knowledge.note_listing_entry(listing, page.url, url, teaser)
            if self.state is not None and url in self.knowledge.known:
                self.state.note_listing_entry(url, teaser[0], teaser[1], listing)

    def _note_section_title(self, url: str, page) -> None:
        """A section's listing (the first page: a few entries may not make it a listing to extraction): its title,
        for the articles of the section that no menu names (``CrawlState.name_sections``)."""
        section = self.profile.section_url
        if self.state is not None and page.article.title and section is not None and \
                section.search(urlsplit(url).path) and listing_root(url, self.profile) == url:
            self.state.note_section_title(url, page.article.title)

    def record_failure(self, failure):
        """A request that could not be fetched (:data:`fetch_failed`)."""
        with self._failing_the_run():
            request, logger = failure.request, self.spider.logger
            if request.meta.get("seed"):
                self.stats.inc_value("archiver/seeds_failed")
            if failure.check(HttpError):
                status = failure.value.response.status
                self.stats.inc_value(f"archiver/failed/http_{status}")
                logger.warning("HTTP %d, given up after retries: %s", status, request.url)
            elif failure.check(IgnoreRequest):
                self.stats.inc_value("archiver/failed/ignored")
                logger.info("Not fetched (%s): %s", failure.value, request.url)
            else:
                self.stats.inc_value(f"archiver/failed/{failure.type.__name__}")
                logger.warning("Could not fetch %s: %s: %s", request.url, failure.type.__name__,
                               failure.getErrorMessage())
            if self.state is not None:
                # Fetched, unsuccessfully: a later run finds it again through its listing.
                self.state.mark(canonical_url(request.url, self.profile), "fetched", kind="error")

    def mark(self, url: str, response, kind: str | None = None) -> None:
        """``url`` fetched: its kind, status and validators (for the next run's conditional requests)."""
        if self.state is None:
            return
        headers = response.headers
        self.state.mark(url, "fetched", kind=kind, http_status=response.status,
                        etag=(headers.get("ETag") or b"").decode("latin-1") or None,
                        last_modified=(headers.get("Last-Modified") or b"").decode("latin-1") or None)

    @contextmanager
    def _failing_the_run(self):
        """Scrapy logs a signal handler's error and goes on: a page or failure the crawl state could not
        record fails the run (archiver.crawl.runs), as an error in the spider's own callback does."""
        try:
            yield
        except Exception:
            self.stats.inc_value("archiver/unhandled_errors")
            raise

    # -- vanished articles -------------------------------------------------------

    def check_vanished(self):
        """Once the crawl is idle (``spider_idle``): check the archived articles that vanished from the
        listings read, and keep the crawl open for those checks."""
        if self.vanished_checked or self.state is None or self.mode == "first":
            return
        self.vanished_checked = True
        checks = self.vanished_checks()
        for request in checks:
            self.crawler.engine.crawl(request)
        if checks:
            raise DontCloseSpider

    def vanished_checks(self) -> list[Request]:
        """A request for each archived article that should have been in a listing window this run read, but
        was in none (:meth:`~archiver.crawl.incremental.Knowledge.vanished`) and was not requested."""
        for listing, window in self.knowledge.windows.items():
            self.spider.logger.debug("Read %s from %s back to %s", listing, window.newest, window.oldest)
        checks = []
        for url in self.knowledge.vanished():
            request = self.spider.check_again(url)
            if request is None:  # this run requested it already
                continue
            self.spider.logger.warning("Archived article vanished from its listing, checking it: %s", url)
            self.schedule(request)
            request.meta["vanished"] = True  # what the page answers decides what is recorded (record_page)
            checks.append(request)
        return checks


def revisit_policy(settings) -> RevisitPolicy:
    """The revisit policy the settings give (``REVISIT_*``)."""
    default = RevisitPolicy()  # for settings without the project's (a crawler made in tests)
    return RevisitPolicy(initial=settings.getint("REVISIT_INITIAL_INTERVAL", default.initial),
                         minimum=settings.getint("REVISIT_MIN_INTERVAL", default.minimum),
                         maximum=settings.getint("REVISIT_MAX_INTERVAL", default.maximum),
                         age_share=settings.getfloat("REVISIT_AGE_SHARE", default.age_share))


def revisit_budget(setting, live_articles: int) -> int:
    """Checks a run may make: ``REVISIT_MAX_PER_RUN`` below 1 is a share of the live archived articles (at least
    one check when any is archived), 1 or more a count."""
    value = float(setting)
    if value >= 1:
        return int(value)
    return math.ceil(value * live_articles) if value > 0 else 0
