"""The rebuild's HTML pages, extracted on every core: each page's record is read, decoded and summarized where
the extraction runs (a worker process of the crawl's pool, or the rebuild's own process with none), so that the
rebuild's process, which writes the archive, neither reads the pages' payloads nor sends them across.

:class:`PageQueue` hands the pages out in capture order, a few at a time, keeps the workers fed, and gives the
results back in that same order, at most ``AHEAD`` of them held (memory stays bounded however many pages the
files hold).
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import AsyncIterator
from typing import NamedTuple

from ..crawl.workers import PageExtractor, summarize
from ..extraction.pages import PageSummary
from .records import Capture, Place, page_at

# Pages a worker is handed at once: one message, one result, one turn of the rebuild's event loop for all of
# them (what the rebuild's process spends on a page is what every core waits for).
PAGES_PER_CALL = 8
# Results held, read by the workers but not yet by the rebuild: during the first pass (which writes nothing, and
# takes one core), the other cores extract the first pages meanwhile. A result is an article's text, stems and
# headers: a few megabytes in all.
AHEAD = 512


class Failed(NamedTuple):
    """A page whose extraction failed: the kind of error (a bug met on one page fails that page, as in a crawl)."""

    error: str


def extract_pages(places: list[Place], profile_key: str) -> list[tuple[Capture, PageSummary] | Failed]:
    """The pages at ``places``: each one's record headers and the crawl's summary of it (in an extraction worker)."""
    results: list[tuple[Capture, PageSummary] | Failed] = []
    for place in places:
        try:
            capture, body = page_at(place)
            summary = summarize(capture.url, body, profile_key, capture.content_type)
        except Exception as error:
            results.append(Failed(type(error).__name__))
            continue
        summary.links = []  # a rebuild follows no link: not sent back
        results.append((capture, summary))
    return results


class PageQueue:
    """The pages to extract, in capture order (:meth:`add`, as the first pass finds them; :meth:`finish` once it
    is over)."""

    def __init__(self, extractor: PageExtractor, processes: int):
        self.extractor = extractor
        self.in_flight = max(1, extractor.capacity)  # calls the workers hold (more wait in the extractor)
        self.ahead = max(1, AHEAD // PAGES_PER_CALL) if processes > 0 else 1  # calls whose results are held
        self.found: list[Place] = []  # the next call's pages
        self.calls: deque[list[Place]] = deque()  # calls not yet handed out
        self.handed: deque[tuple[asyncio.Task, int]] = deque()  # handed out (and their pages), in capture order
        self.running = 0  # handed out and not done

    def add(self, place: Place) -> None:
        self.found.append(place)
        if len(self.found) >= PAGES_PER_CALL:
            self.calls.append(self.found)
            self.found = []

    def finish(self) -> None:
        """Every page is found."""
        if self.found:
            self.calls.append(self.found)
            self.found = []

    def hand_out(self) -> None:
        """Hand pages to the extractor, up to the calls in flight and the results held."""
        while self.calls and self.running < self.in_flight and len(self.handed) < self.ahead:
            places = self.calls.popleft()
            task = asyncio.ensure_future(self.extractor.call(extract_pages, places))
            task.add_done_callback(self._done)
            self.running += 1
            self.handed.append((task, len(places)))

    def _done(self, task: asyncio.Task) -> None:
        self.running -= 1
        if not task.cancelled():
            self.hand_out()  # the next pages at once, whichever the rebuild awaits

    def stop(self) -> None:
        """No more pages handed out (the rebuild stops: the extractor is closed next)."""
        self.found, self.calls = [], deque()

    async def results(self, failed: Counter) -> AsyncIterator[tuple[Capture, PageSummary] | None]:
        """Every page's (record headers, summary), in capture order; None for a page whose extraction failed
        (counted in ``failed`` by the error's kind)."""
        self.finish()
        while self.calls or self.handed:
            self.hand_out()
            task, pages = self.handed.popleft()
            try:
                results = await task
            except Exception as error:  # the whole call failed: a worker's reply that could not be sent
                results = [Failed(type(error).__name__)] * pages
            for result in results:
                if isinstance(result, Failed):
                    failed[f"extraction_failed ({result.error})"] += 1
                    yield None
                else:
                    yield result
