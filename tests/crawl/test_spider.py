"""The news spider's own decisions, on a spider built by Scrapy (no crawl needed)."""

from __future__ import annotations

import urllib.request
from collections import Counter

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from archiver.extraction.pages import summarize
from archiver.spiders.news import NewsSpider


def make_spider(start_urls: str, **settings) -> NewsSpider:
    crawler = get_crawler(NewsSpider, {"SITE_PROFILE": "csto", "EXTRACTION_PROCESSES": 0, "LISTING_BARREN_LIMIT": 2,
                                       **settings})
    return NewsSpider.from_crawler(crawler, start_urls=start_urls)


@pytest.fixture
def spider():
    spider = make_spider("http://127.0.0.1:8000/news/")
    yield spider
    spider.extractor.close()


def test_links_out_of_scope_are_judged_once_and_counted_every_time(spider):
    judged = []
    judge = spider.out_of_scope
    spider.out_of_scope = lambda url: judged.append(url) or judge(url)
    offsite, document = "http://example.org/news/", "http://127.0.0.1:8000/upload/report.pdf"
    article = "http://127.0.0.1:8000/news/news_odkb/some-article/"
    for _ in range(3):  # a menu repeats its links on every page
        assert not spider.in_scope(offsite)
        assert not spider.in_scope(document)
        assert spider.in_scope(article)
    assert judged.count(offsite) == 1 and judged.count(document) == 1
    assert judged.count(article) == 3  # in scope: scheduled at once by the crawl, so not remembered
    stats = spider.crawler.stats
    assert stats.get_value("archiver/links/offsite") == 3
    assert stats.get_value("archiver/links/document") == 3


def test_other_ports_and_traps_are_out_of_scope(spider):
    assert spider.out_of_scope("http://127.0.0.1:8001/news/") == "offsite"
    assert spider.out_of_scope("http://127.0.0.1:8000/news/a/a/a/b/") == "trap"
    assert spider.out_of_scope("http://127.0.0.1:8000/news/news_odkb/x/") is None


def followed(spider, url: str, html: bytes, depth: int) -> list[Request]:
    page = summarize(url, html, spider.profile)
    response = HtmlResponse(url, body=html, request=Request(url, meta={"depth": depth, "barren": 0}))
    return list(spider.follow_links(page, response, is_article=False, is_listing=True))


def test_the_next_page_of_a_listing_is_not_a_level_deeper(replica):
    listing = replica.seeds[0]
    html = urllib.request.urlopen(listing, timeout=30).read()

    shallow = followed(make_spider(listing, DEPTH_LIMIT=4), listing, html, depth=3)
    assert {request.meta["depth"] for request in shallow if request.meta["pagination"]} == {3}
    assert {request.meta["depth"] for request in shallow if not request.meta["pagination"]} == {4}

    spider = make_spider(listing, DEPTH_LIMIT=4)
    deepest = followed(spider, listing, html, depth=4)
    assert deepest and all(request.meta["pagination"] and request.meta["depth"] == 4 for request in deepest)
    assert spider.crawler.stats.get_value("archiver/links/too_deep") == len(shallow) - len(deepest)
    assert spider.crawler.stats.get_value("request_depth_max") == 4


def test_a_pages_links_out_of_scope_are_counted_by_reason(replica):
    listing = replica.seeds[0]
    html = urllib.request.urlopen(listing, timeout=30).read()
    spider = make_spider(listing)
    page = summarize(listing, html, spider.profile)
    reasons = Counter(spider.out_of_scope(link.url) for link in page.links) - Counter({None: len(page.links)})
    assert reasons, "the replica's menus and footer link off the site"
    for _ in range(2):  # the same menus on the next page: counted again, judged once
        response = HtmlResponse(listing, body=html, request=Request(listing, meta={"depth": 0, "barren": 0}))
        list(spider.follow_links(page, response, is_article=False, is_listing=True))
    assert {reason: spider.crawler.stats.get_value(f"archiver/links/{reason}") for reason in reasons} == \
        {reason: 2 * count for reason, count in reasons.items()}


def test_a_redirect_no_url_can_be_made_of_is_left_to_scrapy_not_raised():
    from scrapy.http import Response

    from archiver.crawl.middlewares import RedirectGuardMiddleware

    guard = RedirectGuardMiddleware(max_times=5)
    request = Request("https://odkb-csto.org/news/news_odkb/a/")
    for location in (b"http://odkb-csto.org:99999/b/", b"http://[::1/b/"):
        response = Response(request.url, status=302, headers={"Location": location}, request=request)
        assert guard.process_response(request, response) is response
    looping = Response(request.url, status=302, headers={"Location": request.url.encode()}, request=request)
    with pytest.raises(Exception, match="redirect loop"):
        guard.process_response(request, looping)


def test_a_page_moving_to_its_index_php_name_is_not_a_redirect_loop():
    from scrapy.http import Response

    from archiver.crawl.middlewares import RedirectGuardMiddleware

    guard = RedirectGuardMiddleware(max_times=5)
    request = Request("https://odkb-csto.org/news/news_odkb/a/")
    moving = Response(request.url, status=302, headers={"Location": b"/news/news_odkb/a/index.php"}, request=request)
    assert guard.process_response(request, moving) is moving  # one page, its canonical URL the same: no loop
    back = Request("https://odkb-csto.org/news/news_odkb/a/index.php", meta={"redirect_urls": [request.url]})
    looping = Response(back.url, status=302, headers={"Location": b"/news/news_odkb/a/"}, request=back)
    with pytest.raises(Exception, match="redirect loop"):
        guard.process_response(back, looping)


def test_an_article_first_seen_in_a_short_box_is_missed_where_its_section_listing_was_read():
    from archiver.crawl.incremental import Knowledge

    home, section = "http://127.0.0.1:8000/", "http://127.0.0.1:8000/news/news_odkb/"
    old, listed = section + "removed/", section + "still-listed/"
    # Both first seen in the home page's press box, which a later run reads to its first entries only.
    known = {old: ("Removed", "2020-06-06", home), listed: ("Listed", "2020-06-07", home)}
    knowledge = Knowledge(known, "incremental")
    for n, date in enumerate(["2020-07-03", "2020-07-02", "2020-07-01"]):
        knowledge.note_listing_entry(home, home, f"{section}new-{n}/", ("New", date))
    entries = [(section + "a/", "2020-06-20"), (listed, "2020-06-07"), (section + "b/", "2020-06-01"),
               (section + "c/", "2020-05-30")]
    for n, (url, date) in enumerate(entries):
        knowledge.note_listing_entry(section, section + ("?PAGEN_1=2" if n > 1 else ""), url, ("T", date))
    # The box's window ends above both dates; the section's covers them, and shows one of the two.
    assert knowledge.vanished() == [old]
