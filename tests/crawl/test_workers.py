"""Extraction off the reactor: the worker pool gives the same summaries as in-process
extraction, and pages waiting for a worker are handed over most urgent first."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import socket
import time
import urllib.error
import urllib.request

import psutil
import pytest

from archiver.extraction.pages import PageSummary
from archiver.crawl.workers import PAGES_PER_WORKER, QUEUED_BYTES_PER_WORKER, PageExtractor, summarize

from conftest import start_crawl


@pytest.fixture(scope="module")
def replica_pages(replica):
    """An article page and a listing page of each language, as the replica serves them."""
    truth = replica.site.ground_truth(replica.base_urls)
    urls = [seed for seed in replica.seeds] + [article["url"] for article in truth[:4]]
    return [(url, fetch(url)) for url in urls]


def fetch(url: str, attempts: int = 3) -> str:
    """A page of the replica (some of its articles answer 503 the first time, on purpose)."""
    for attempt in range(attempts):
        try:
            return urllib.request.urlopen(url, timeout=30).read().decode("utf-8")
        except urllib.error.HTTPError:
            if attempt == attempts - 1:
                raise


def test_the_pool_summarizes_pages_exactly_as_the_crawl_process_does(replica_pages):
    async def in_pool():
        extractor = PageExtractor("csto", processes=2)
        try:
            return await asyncio.gather(*(extractor.summarize(url, html) for url, html in replica_pages))
        finally:
            extractor.close()

    pooled = asyncio.run(in_pool())
    in_process = [summarize(url, html, "csto") for url, html in replica_pages]
    assert pooled == in_process
    assert any(page.is_listing for page in pooled) and any(page.article.is_article for page in pooled)


def test_workers_run_at_a_lower_priority_than_the_crawl(replica_pages):
    """The crawl process feeds every worker: on busy cores the kernel must not share them out evenly."""
    async def niceness_of_workers():
        extractor = PageExtractor("csto", processes=2)
        try:
            # Two pages at once: each idle worker gets one, so both have lowered their priority (the
            # first thing a worker does) by the time they answer. After one page, the other may not have.
            await asyncio.gather(*(extractor.summarize(url, html) for url, html in replica_pages[:2]))
            return [psutil.Process(worker.process.pid).nice() for worker in extractor.workers]
        finally:
            extractor.close()

    own = os.nice(0)
    assert asyncio.run(niceness_of_workers()) == [min(19, own + 10)] * 2


def test_pages_waiting_for_a_worker_are_handed_over_most_urgent_first(replica_pages):
    article_url, article_html = replica_pages[-1]
    listing_url, listing_html = replica_pages[0]
    finished: list[str] = []
    held = PAGES_PER_WORKER  # the pages one worker holds at once: its page and those waiting in its socket

    async def run():
        extractor = PageExtractor("csto", processes=1)
        assert extractor.capacity == held

        async def summarize_one(name, url, html, priority):
            await extractor.summarize(url, html, priority=priority)
            finished.append(name)

        try:
            articles = [asyncio.create_task(summarize_one(f"article{n}", article_url, article_html, 0))
                        for n in range(held + 4)]
            await asyncio.sleep(0)  # the articles are queued (`held` in the worker, four waiting) ...
            listing = asyncio.create_task(summarize_one("listing", listing_url, listing_html, 1))
            await asyncio.gather(*articles, listing)  # ... before the listing arrives
        finally:
            extractor.close()

    asyncio.run(run())
    # The listing overtakes the four articles that were waiting, not those already in the worker.
    assert finished.index("listing") <= held, finished
    assert sorted(finished) == sorted(["listing", *(f"article{n}" for n in range(held + 4))])


def test_a_worker_holds_small_pages_up_to_its_count_and_a_big_one_alone(replica_pages):
    """Pages wait in a worker's socket only as far as its buffer holds them: sending never blocks the crawl."""
    url, html = replica_pages[-1]
    big = html.replace("</body>", "<!-- %s --></body>" % ("x" * QUEUED_BYTES_PER_WORKER))

    async def run():
        extractor = PageExtractor("csto", processes=1)
        try:
            await extractor.summarize(url, html)  # the worker is up
            worker = extractor.workers[0]
            with socket.socket(fileno=os.dup(worker.connection.fileno())) as sock:
                granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
            held = {}
            for name, page, count in (("small", html, PAGES_PER_WORKER + 3), ("big", big, 3)):
                tasks = [asyncio.create_task(extractor.summarize(url, page)) for _ in range(count)]
                await asyncio.sleep(0)  # all handed out that can be
                held[name] = len(worker.pages)
                results = await asyncio.gather(*tasks)
            return worker.queue_limit, granted, held, results
        finally:
            extractor.close()

    limit, granted, held, results = asyncio.run(run())
    assert 0 < 4 * limit <= granted and limit <= QUEUED_BYTES_PER_WORKER
    small_size = len(pickle.dumps((url, html), pickle.HIGHEST_PROTOCOL))
    assert held["small"] == min(PAGES_PER_WORKER, limit // small_size) > 2
    assert held["big"] == 1
    assert results == [summarize(url, big, "csto")] * 3


def pool_processes(pid: int) -> set[int]:
    """The extraction pool below ``pid``: the fork server and the workers forked from it
    (not multiprocessing's resource tracker)."""
    found = set()
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if any("multiprocessing.forkserver" in part for part in child.cmdline()):
                found.add(child.pid)
        except psutil.Error:  # gone meanwhile
            continue
    return found


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_killed_crawl_leaves_no_worker_behind(replica, tmp_path):
    """SIGKILL gives the crawl no chance to stop its pool: the workers notice and exit on their own."""
    crawl = start_crawl(replica.seeds, tmp_path / "archive.db",
                        ["EXTRACTION_PROCESSES=2", "DOWNLOAD_DELAY=0.2", "CONCURRENT_REQUESTS_PER_DOMAIN=1"])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(pool_processes(crawl.pid)) < 3:  # the server, two workers
            time.sleep(0.1)
        time.sleep(1)  # mid-crawl
        workers = pool_processes(crawl.pid)
        assert len(workers) >= 3, "the crawl did not start its fork server and two extraction workers"
        assert crawl.poll() is None, "the crawl ended before it could be killed"
    finally:
        crawl.send_signal(signal.SIGKILL)
        crawl.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(map(running, workers)):
        time.sleep(0.2)
    assert not [pid for pid in workers if running(pid)], "worker processes outlived the killed crawl"


def test_a_broken_pool_falls_back_to_extracting_in_process(replica_pages):
    """A worker that dies (OOM killer, a crash in lxml) breaks the pool: no page is lost, and every
    page, including those already waiting for a worker, is extracted in the crawl's own process."""
    async def run():
        extractor = PageExtractor("csto", processes=1)
        try:
            await extractor.summarize(*replica_pages[0])  # the worker is up
            for pid in pool_processes(os.getpid()):
                os.kill(pid, signal.SIGKILL)
            return await asyncio.gather(*(extractor.summarize(url, html) for url, html in replica_pages * 3))
        finally:
            extractor.close()

    results = asyncio.run(run())
    assert results == [summarize(url, html, "csto") for url, html in replica_pages * 3]


def test_closing_cancels_the_pages_still_waiting_for_a_worker(replica_pages):
    """A crawl that stops with pages queued for extraction does not wait on them forever."""
    async def run():
        extractor = PageExtractor("csto", processes=1)
        tasks = [asyncio.create_task(extractor.summarize(url, html)) for url, html in replica_pages * 5]
        while extractor.starting is not None or not extractor.waiting:
            await asyncio.sleep(0.01)  # the worker is up and pages wait for it
        extractor.close()
        return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=30)

    results = asyncio.run(run())
    cancelled = [result for result in results if isinstance(result, asyncio.CancelledError)]
    assert cancelled, "no page was waiting when the extractor closed"
    assert all(isinstance(result, (asyncio.CancelledError, PageSummary)) for result in results), results


def test_a_settled_process_hides_what_it_loaded_from_the_collector_and_collects_young_objects_less_often():
    import subprocess
    import sys

    probe = ("import gc; from archiver.crawl.workers import COLLECTOR_THRESHOLDS, settle_collector; "
             "before = gc.get_threshold(); settle_collector(); "
             "print(before != COLLECTOR_THRESHOLDS, gc.get_threshold() == COLLECTOR_THRESHOLDS, "
             "gc.get_freeze_count() > 0)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "True"]
