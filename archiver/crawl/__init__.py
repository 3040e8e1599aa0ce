"""Scrapy plumbing: items, pipelines, middlewares, the run's bookkeeping, incremental knowledge, extraction workers."""
