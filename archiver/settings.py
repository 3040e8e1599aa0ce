"""Scrapy settings of the archiver project. Override any with ``-s NAME=VALUE``."""

import os

from scrapy.settings import default_settings as _scrapy_defaults

from archiver import PROJECT_URL, __version__
from archiver.crawl import consoles as _consoles
from archiver.crawl.items import exported_fields

BOT_NAME = "archiver"
SPIDER_MODULES = ["archiver.spiders"]
NEWSPIDER_MODULE = "archiver.spiders"

# -- the archive -------------------------------------------------------------
ARCHIVE_DB = os.environ.get("ARCHIVE_DB", "data/archive.db")
ARCHIVE_BATCH_SIZE = 25  # articles per transaction
# Who runs this crawl (an e-mail or URL), put in the User-Agent so site owners can reach you.
ARCHIVER_CONTACT = os.environ.get("ARCHIVER_CONTACT", "")
# The site profile used by the `news` spider unless `-a profile=...` says otherwise.
SITE_PROFILE = "csto"
# Listing pages in a row that bring no new article before pagination stops
# (on an incremental run: pages whose articles are all archived and unchanged).
LISTING_BARREN_LIMIT = 2
# Revisits (docs/crawling.md, "Revisits"): an incremental run checks the archived articles that are due, with
# conditional requests. Intervals in seconds: doubled after a check finding the article unchanged, halved after
# one finding it changed; a new article starts at REVISIT_AGE_SHARE of its age (young articles change most).
REVISIT_AGE_SHARE = 0.05
REVISIT_INITIAL_INTERVAL = 86400  # 1 day: a new article's first interval when it has no date
REVISIT_MIN_INTERVAL = 3600  # 1 hour
REVISIT_MAX_INTERVAL = 90 * 86400  # 90 days
# Checks per run, the longest overdue first: a share of the live archived articles (a whole number >= 1: a count).
REVISIT_MAX_PER_RUN = 0.02
# Health checks of each run (exit code 4 "degraded" when one fails).
COVERAGE_DROP_THRESHOLD = 0.3  # a field's coverage falling by more than this vs. recent runs
COVERAGE_MIN_ARTICLES = 10  # runs extracting fewer articles are not compared
DEGRADED_AFTER_DAYS_WITHOUT_NEW = 30  # no new article for this many days (negative: never)
# A safety net against link spaces no rule foresaw; "next page" is not a level.
DEPTH_LIMIT = 50
# Bounds on link spaces (docs/crawling.md, "Bounded link spaces"); 0 turns one off.
MAX_LINKS_PER_PAGE = 1000  # new links followed from one page (menus and listings hold far fewer)
MAX_NEW_URLS_PER_DEPTH = 100_000  # URLs no earlier run met, scheduled at one link depth (a site's articles sit at one)
UNDATED_CHAIN_LIMIT = 3  # article-like pages without a date in a row, past which their new article links are left
# Sitemaps and feeds (docs/crawling.md, "Sitemaps and feeds"), read on every run besides the links; the profile's
# [discovery] keys turn them off for one site. Caps: bytes of one file (after decompression), sitemap index
# levels followed, sitemap files read a host.
SITEMAPS_ENABLED = True
FEEDS_ENABLED = True
SITEMAP_MAX_BYTES = 10 * 1024 * 1024
SITEMAP_MAX_DEPTH = 3
SITEMAP_MAX_FILES = 200

# Worker processes for parsing and extraction: "auto" = one per core when there
# are several, 0 = in the crawl's own process.
EXTRACTION_PROCESSES = "auto"

# -- politeness ----------------------------------------------------------------
USER_AGENT = f"archiver/{__version__} (news archiving crawler; +{PROJECT_URL})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
# A page yields at most one item: Scrapy's default (100) starts 100 worker tasks per response for nothing.
CONCURRENT_ITEMS = 8
# Downloaded pages waiting for extraction, in bytes, past which Scrapy downloads no more (its
# default is 5 MB): enough to keep the extraction workers busy, with less memory (benchmarks/NOTES.md).
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# -- robustness ----------------------------------------------------------------
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # pages above this are dropped with an error line
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 1.0  # seconds before the first retry, doubled for each further one
RETRY_BACKOFF_MAX = 60.0
REDIRECT_MAX_TIMES = 10
# 404/410 reach the spider, which logs them as gone instead of dropping them silently;
# 304 answers its conditional requests.
HTTPERROR_ALLOWED_CODES = [304, 404, 410]
# A page that fails is bad input, logged as a warning; ERROR is kept for what fails a run.
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"

# -- archival capture (docs/replay.md) -------------------------------------------
WARC_ENABLED = True  # every HTTP exchange into WARC/1.1 files (archiver.capture.warc)
WARC_DIR = ""  # default: warc/ next to ARCHIVE_DB
WARC_PREFIX = "ARCHIVER"  # files are PREFIX-TIMESTAMP-SERIAL.warc.gz
WARC_MAX_SIZE = 1_000_000_000  # bytes; a new file is started past this
WARC_FSYNC = True  # records fsync'd before the rows pointing at them commit (once per batch): power-loss safe
MEDIA_ENABLED = True  # article images and linked documents, content-addressed (archiver.capture.media)
MEDIA_DIR = ""  # default: media/ next to ARCHIVE_DB
MEDIA_MAXSIZE = 50 * 1024 * 1024  # larger media files are not downloaded
# What a page needs to render (stylesheets and what they load, scripts, images, srcset, data-src) on the page's own
# hosts, into the WARC and CDXJ only (archiver.capture.requisites, docs/replay.md). robots.txt is obeyed for them
# as for pages unless REQUISITES_IGNORE_ROBOTS (archives commonly fetch what renders a page; pages never).
REQUISITES_ENABLED = True
REQUISITES_IGNORE_ROBOTS = False
# Encodings every replay tool decodes (as Heritrix asks): Scrapy's default adds br and zstd, which a plain pywb or
# warcio cannot decode.
DEFAULT_REQUEST_HEADERS = {**_scrapy_defaults.DEFAULT_REQUEST_HEADERS, "Accept-Encoding": "gzip, deflate"}

# -- scope (docs/security.md) ----------------------------------------------------
# Only http and https are ever downloaded: Scrapy's other download handlers are off (a page's
# <img src="file:///etc/passwd"> read a local file into the archive), and ScopeGuardMiddleware refuses
# any other scheme before download.
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "data": None, "s3": None}
# Media (images, documents) come from the seeds' hosts (host and port) and the hosts the profile lists
# (media_hosts), plus these: "host" (default ports) or "host:port"; "*" for any host.
MEDIA_HOSTS = []
# Media from a loopback (other than a seed's own), private, link-local or multicast address are refused
# unless this is on.
MEDIA_ALLOW_PRIVATE_ADDRESSES = False

DOWNLOADER_MIDDLEWARES = {
    # First of all: only http(s), redirects in scope, robots.txt read on media hosts (before Scrapy's
    # OffsiteMiddleware, 50, and RobotsTxtMiddleware, 100).
    "archiver.crawl.middlewares.ScopeGuardMiddleware": 10,
    # Closest to the downloader: raw bodies (before decompression), every redirect and error.
    "archiver.capture.warc.WarcCaptureMiddleware": 950,
    "archiver.crawl.middlewares.RetryBackoffMiddleware": 560,
    "archiver.crawl.middlewares.RedirectGuardMiddleware": 650,
}
# Each spider middleware wraps every request a page yields: the spider itself sets each request's
# depth (the next page of a listing is not a level deeper) and caps URL length (1,000) in its scope check.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    # The crawl state of each request and answer, the run's mode, removals (next to the spider: it sees each
    # request as the spider made it).
    "archiver.crawl.bookkeeping.CrawlBookkeeping": 950,
    # Page requisites, after the bookkeeping (which never sees them) and before RefererMiddleware (700).
    "archiver.capture.requisites.RequisitesMiddleware": 900,
}
# No console servers in a crawl that cron starts: the telnet console and Scrapy's remote
# control (which runs Python code sent over HTTP) listen on ports and cost start-up time.
# Turn them on for one run with -s TELNETCONSOLE_ENABLED=1 or -s REMOTE_CONTROL_ENABLED=1:
# ConsoleServers then loads them. Scrapy imports every extension it lists, off or not (the
# remote control brings aiohttp, a sixth of a second of every start), and loads each key of
# EXTENSIONS even to disable it; so the base list is Scrapy's own without the two consoles.
EXTENSIONS_BASE = {path: order for path, order in _scrapy_defaults.EXTENSIONS_BASE.items()
                   if path not in _consoles.CONSOLES.values()}
EXTENSIONS = {
    "archiver.crawl.runs.ArchiveRun": 100,
    "archiver.crawl.consoles.ConsoleServers": 0,
    # Debug records are not built at all unless a log handler takes them (archiver.crawl.loglevels).
    "archiver.crawl.loglevels.LoggerThreshold": 0,
    # A live status line when stderr is a terminal (archiver.crawl.progress); before ArchiveRun: gone before the
    # summary is printed.
    "archiver.crawl.progress.TerminalProgress": 50,
}
PROGRESS_ENABLED = True  # the status line on a terminal; -s PROGRESS_ENABLED=0 for plain log lines
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Our `scrapy crawl` returns the run's exit code (see archiver/commands/crawl.py).
COMMANDS_MODULE = "archiver.commands"
ITEM_PIPELINES = {
    "archiver.crawl.pipelines.ValidationPipeline": 100,
    "archiver.capture.media.MediaPipeline": 200,  # before the archive: items carry their files' digests
    "archiver.crawl.pipelines.ArchivePipeline": 300,
    "archiver.crawl.pipelines.OncePerRunPipeline": 400,  # feed exports get one item per article
}

# -- memory and order ----------------------------------------------------------------
# Breadth-first with priorities: articles first, then pagination, then other listings.
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORT_FIELDS = exported_fields()  # every field of an article but the archive's search stems
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# -- cluster mode (docs/cluster.md) ---------------------------------------------
# With a Redis URL (here, -s REDIS_URL=... or $REDIS_URL) workers share one
# scrapy-redis queue and dupefilter and send items to `archiver ingest`;
# without one, the addon does nothing (scrapy-redis is not even imported).
REDIS_URL = os.environ.get("REDIS_URL", "")
ADDONS = {
    "archiver.cluster.addon.ClusterAddon": 0,
    "archiver.crawl.contact.ContactAddon": 0,  # ARCHIVER_CONTACT into the User-Agent
}
