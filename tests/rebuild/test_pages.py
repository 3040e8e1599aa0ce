"""The rebuild's pages in real extraction workers: each worker reads its pages' WARC records itself, several
pages a call, and the results come back in capture order; a page that cannot be read or extracted fails alone,
counted, and the others still come back."""

from __future__ import annotations

import asyncio
from collections import Counter
from io import BytesIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.crawl.workers import PageExtractor
from archiver.rebuild.inventory import Inventory, read_inventory
from archiver.rebuild.pages import PAGES_PER_CALL, PageQueue
from archiver.rebuild.records import Place

from hostile import article

SITE = "http://news.example.org"


def test_pages_come_back_in_capture_order_and_a_failed_one_alone(tmp_path):
    warc = tmp_path / "pages.warc.gz"
    urls = [f"{SITE}/news/{number}/" for number in range(2 * PAGES_PER_CALL + 3)]  # three calls, the last short
    with warc.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for number, url in enumerate(urls):
            body = article(f"Заседание совета номер {number}").encode()
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(body), length=len(body),
                                                          http_headers=http))
    inventory = Inventory()
    places = [place for place in read_inventory([warc], inventory) if place is not None]
    assert len(places) == len(urls)
    places.insert(5, Place(warc, 7))  # no record starts there

    extractor = PageExtractor("csto", processes=1)
    queue = PageQueue(extractor, processes=1)
    for place in places:
        queue.add(place)
    failed: Counter = Counter()

    async def results():
        found = [result async for result in queue.results(failed)]
        assert extractor.workers  # read and extracted in the worker, none fell back to this process
        return found

    try:
        found = asyncio.run(results())
    finally:
        extractor.close()
    assert [result and result[0].url for result in found] == [*urls[:5], None, *urls[5:]]
    assert failed == {"extraction_failed (BadInput)": 1}
    for number, (capture, summary) in enumerate(result for result in found if result):
        assert summary.article.title == f"Заседание совета номер {number}"
        assert summary.links == []  # not sent back: a rebuild follows no link
        assert capture.record is None and capture.status == 200
