"""archiver: a faithful, deduplicated, queryable archive of news sites, built on Scrapy."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/archiver-project/archiver"
