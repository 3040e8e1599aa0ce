"""The framework's bound: bare Scrapy following links to a known set of pages, nothing else.

    python benchmarks/bare_spider.py [--concurrency N] URLS_FILE SEED [SEED ...]

Fetches the seeds and every page in URLS_FILE (the pages the full crawl
fetched, all known upfront), and follows the links of each page that lead
to that set: no extraction, no storage, ``N`` requests in flight (default 32, as
bench.py's crawls). Prints the number of pages fetched on its last line.
"""

import argparse

import scrapy
from scrapy.crawler import CrawlerProcess

from archiver.extraction.normalize import canonical_url
from archiver.profiles import load_profile

PROFILE = load_profile("csto")


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, urls: set[str], seeds: list[str]):
        super().__init__()
        self.urls, self.seeds, self.pages = urls, seeds, 0
        self.followed: set[str] = set()  # each page is requested once, as the full crawl does

    async def start(self):
        # Every page is known upfront, so the measure is the framework's throughput, not the
        # latency of discovering a listing one page after another.
        for url in [*self.seeds, *sorted(self.urls)]:
            self.followed.add(url)
            yield scrapy.Request(url)

    def parse(self, response):
        self.pages += 1
        if not hasattr(response, "css"):
            return
        for href in response.css("a::attr(href)").getall():
            url = canonical_url(response.urljoin(href), PROFILE)
            if url in self.urls and url not in self.followed:
                self.followed.add(url)
                yield scrapy.Request(url)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("urls_file")
    parser.add_argument("seeds", nargs="+")
    arguments = parser.parse_args()
    urls = set(open(arguments.urls_file).read().split())
    process = CrawlerProcess({
        "LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": False, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": arguments.concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": arguments.concurrency,
        "RETRY_TIMES": 1, "CONCURRENT_ITEMS": 8,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "EXTENSIONS": {"timeline.ResponseTimeline": 0},  # bench.py's timeline, when it asks for one
    })
    process.crawl(BareSpider, urls=urls, seeds=arguments.seeds)
    crawler = next(iter(process.crawlers))
    process.start()
    print(crawler.spider.pages)


if __name__ == "__main__":
    main()
