"""Scrapy settings of the archiver project. Override any with ``-s NAME=VALUE``."""

import os

from archiver import PROJECT_URL, __version__

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
# Listing pages in a row that bring no new article before pagination stops.
LISTING_BARREN_LIMIT = 2
# A safety net against link spaces no rule foresaw; "next page" is not a level.
DEPTH_LIMIT = 50

# -- politeness ----------------------------------------------------------------
USER_AGENT = f"archiver/{__version__} (news archiving crawler; +{PROJECT_URL})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
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
# 404/410 reach the spider, which logs them as gone instead of dropping them silently.
HTTPERROR_ALLOWED_CODES = [404, 410]

DOWNLOADER_MIDDLEWARES = {
    "archiver.middlewares.RetryBackoffMiddleware": 560,
    "archiver.middlewares.RedirectGuardMiddleware": 650,
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "archiver.middlewares.PaginationDepthMiddleware": 900,
}
ITEM_PIPELINES = {
    "archiver.pipelines.ValidationPipeline": 100,
    "archiver.pipelines.ArchivePipeline": 300,
}

# -- memory and order ----------------------------------------------------------------
# Breadth-first with priorities: articles first, then pagination, then other listings.
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
