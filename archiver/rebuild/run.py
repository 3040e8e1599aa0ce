"""``archiver rebuild``: the archive re-derived from WARC files, through the crawl's own extraction.

Two streamed passes. The first (:mod:`archiver.rebuild.inventory`) reads every record: the redirects, the
media downloads, where each HTML page is, and that every record reads at all; it writes nothing to the archive.
The pages go to the crawl's extraction workers (:class:`archiver.crawl.workers.PageExtractor`, every core) as
the first pass finds them, each worker reading its page's record itself (:mod:`archiver.rebuild.pages`), and
the results are taken back in capture order, so that the archive sees the pages as the crawl saw them: a
listing before the articles it shows, the first of two URLs with the same content before the second. The
second pass writes them: each article becomes the crawl's row (:class:`archiver.crawl.items.ArticleItem`,
:mod:`archiver.crawl.item_rows`), its media linked to their captures (:mod:`archiver.rebuild.media`), written
by :mod:`archiver.archive.rederive`.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..archive.lock import ArchiveLock, ArchiveLocked
from ..archive.rederive import (RebuildCounts, alias_redirects, fill_listing_entries, last_article_id,
                               name_sections, save_rederived)
from ..archive.run_log import RunLog
from ..archive.storage import Archive
from ..crawl.item_rows import item_row, missing_field
from ..crawl.items import ArticleItem
from ..crawl.workers import PageExtractor, log_decoding
from ..extraction.normalize import canonical_url
from ..extraction.pages import listing_root
from ..profiles import SiteProfile
from .capture_rows import CaptureRows
from .inventory import Inventory, read_inventory
from .media import MediaLinks, iso_time
from .pages import PageQueue
from .progress import Quiet
from .records import BadInput

BATCH_SIZE = 100  # articles per transaction
LOCKED, WRITE_FAILED = 75, 74  # as a crawl's: the archive is held by another process; a write failed
INTERRUPTED = 130  # Ctrl-C: what was written stays
# The first pass lets the event loop take the workers' results (and hand them their next pages) every this
# many records.
RECORDS_PER_TURN = 16


@dataclass
class Outcome:
    """What a rebuild did: the one summary line, the run's row in ``crawl_runs``."""

    run_id: int = 0
    records: int = 0
    pages: int = 0
    articles: RebuildCounts = field(default_factory=RebuildCounts)
    dropped: Counter = field(default_factory=Counter)  # pages read that gave no article to write, by reason
    skipped: dict = field(default_factory=dict)  # response records that are no page, by kind
    aliases: int = 0
    media_stored: int = 0
    captures_indexed: int = 0

    def summary(self) -> str:
        a = self.articles
        skipped = ", ".join(f"{count} {kind}" for kind, count in self.skipped.items()) or "none"
        return (f"Rebuild run {self.run_id}: {self.records} response records, {self.pages} HTML pages; articles "
                f"{a.new} new, {a.re_extracted} re-extracted, {a.unchanged} unchanged, {a.updated} updated by a later "
                f"capture, {a.aliased} stored under another URL, {a.other_capture} other captures of archived "
                f"articles; records skipped: {skipped}; {self.captures_indexed} captures indexed, "
                f"{self.media_stored} media files stored from the WARC files")


class Rebuild:
    """One rebuild of the archive ``db`` from ``paths`` (WARC files in capture order)."""

    def __init__(self, db: str | Path, paths: list[Path], profile_key: str, profile: SiteProfile, processes: int,
                 media_dir: Path, display: Quiet):
        self.db, self.paths, self.profile_key, self.profile = str(db), paths, profile_key, profile
        self.processes, self.media_dir, self.display = processes, media_dir, display
        self.outcome = Outcome()
        self.first_teasers: dict[str, tuple] = {}  # article URL -> how a listing first showed it
        self.teasers: dict[str, dict[str, tuple]] = {}  # article URL -> {listing page URL: how it showed it}
        self.inventory: Inventory | None = None  # what the first pass found
        self.section_titles: dict[str, str] = {}  # section listing -> the title its first page shows
        self.led_here: dict[str, list[str]] = {}  # URL -> the URLs whose redirects end there
        self.captures = CaptureRows()  # the captures rows of the records read

    def run(self) -> Outcome:
        """Raises :class:`BadInput` (before any write), :class:`ArchiveLocked`, or a write error."""
        lock = ArchiveLock(self.db)
        lock.acquire()
        loop = asyncio.new_event_loop()
        extractor = PageExtractor(self.profile_key, self.processes)  # its workers start while the first pass reads
        queue = PageQueue(extractor, self.processes)
        try:
            self.display.start_reading()
            inventory = loop.run_until_complete(self._first_pass(queue))
            archive = Archive(self.db)
            try:
                self._write(archive, inventory, lambda before: loop.run_until_complete(
                    self._extract_all(archive, inventory, queue, extractor, before)))
            finally:
                archive.close()
        finally:
            queue.stop()
            extractor.close()
            _close(loop)
            self.captures.close()
            self.display.stop()
            lock.release()
        return self.outcome

    async def _first_pass(self, queue: PageQueue) -> Inventory:
        """Every record read (raises :class:`BadInput`); the pages found meanwhile go to the workers."""
        inventory = Inventory()
        handing = self.processes > 0
        for read, place in enumerate(read_inventory(self.paths, inventory, self.captures.add), 1):
            self.display.read(read)
            if place is not None:
                queue.add(place)
            if handing and read % RECORDS_PER_TURN == 0:
                queue.hand_out()
                await asyncio.sleep(0)  # the loop takes the results that are in and sends the next pages
        self.captures.start_writing()
        return inventory

    def _write(self, archive: Archive, inventory: Inventory, extract_all) -> None:
        runs = RunLog(archive)
        outcome = self.outcome
        outcome.run_id = runs.open(os.getpid())
        outcome.records = sum(inventory.counts.values())
        outcome.pages, outcome.skipped = inventory.pages, inventory.skipped
        self.inventory = inventory
        for source in inventory.redirects:
            self.led_here.setdefault(inventory.final_url(source), []).append(source)
        status, exit_code = "failed", WRITE_FAILED
        try:
            self.display.start_extracting(inventory.pages)
            before = last_article_id(archive)
            extract_all(before)
            # A listing captured after an article it shows was often read before it by the crawl's workers.
            fill_listing_entries(archive, self.first_teasers, before)
            name_sections(archive, self.section_titles, before)
            canonical = {canonical_url(source, self.profile): canonical_url(inventory.final_url(source), self.profile)
                         for source in inventory.redirects}
            outcome.aliases = alias_redirects(archive, {s: t for s, t in canonical.items() if s != t})
            status, exit_code = "finished", 0
            from ..archive.explore import refresh_quietly  # search, stems, translations, as after a crawl

            refresh_quietly(archive.db, self.db)
        except KeyboardInterrupt:
            status, exit_code = "interrupted", INTERRUPTED
            raise
        finally:
            a = outcome.articles
            runs.close(outcome.run_id, {
                "status": status, "mode": "rebuild", "exit_code": exit_code, "requests": outcome.records,
                **{f"responses_{kind}": count for kind, count in inventory.statuses.items()
                   if kind in ("2xx", "3xx", "4xx", "5xx")},
                "articles_new": a.new, "articles_updated": a.updated + a.re_extracted,
                "articles_unchanged": a.unchanged, "finish_reason": status,
                "items_dropped": json.dumps({**outcome.skipped, **outcome.dropped}, sort_keys=True)})

    async def _extract_all(self, archive: Archive, inventory: Inventory, queue: PageQueue,
                           extractor: PageExtractor, before: int) -> None:
        media = MediaLinks(inventory, self.media_dir, self.db)
        run_id = self.outcome.run_id
        batch: list[dict] = []
        extracted = articles = 0
        try:
            async for result in queue.results(self.outcome.dropped):
                extracted += 1
                row = self._row(*result) if result is not None else None
                if row is not None:
                    media.link(row["images"], "src")
                    media.link(row["documents"], "url")
                    batch.append(row)
                    articles += 1
                if len(batch) >= BATCH_SIZE:
                    self.outcome.articles.add(save_rederived(archive, batch, run_id, before))
                    batch = []
                self.captures.write_due(archive, run_id, extracted / inventory.pages)
                self.display.extracted(extracted, articles)
            if batch:
                self.outcome.articles.add(save_rederived(archive, batch, run_id, before))
            self.captures.write_due(archive, run_id, 1.0)
            self.display.extracted(extracted, articles, final=True)
        finally:
            extractor.close()  # the workers are done with: their memory goes before the final steps
            self.outcome.media_stored = media.stored
            self.outcome.captures_indexed = self.captures.added

    def _row(self, capture, summary) -> dict | None:
        """What the crawl's spider and pipelines make of one page: an article's row, or None."""
        log_decoding(summary)
        if summary.problem:
            self.outcome.dropped["not_a_page"] += 1
            return None
        if summary.is_listing:
            listing = listing_root(summary.url, self.profile)
            for url, teaser in summary.teasers.items():
                self.first_teasers.setdefault(url, (*teaser, listing))
                self.teasers.setdefault(url, {}).setdefault(capture.url, (*teaser, listing))
        article = summary.article
        if not article.is_article:
            self._note_section_title(capture, article)
            return None
        requested = [canonical_url(url, self.profile) for url in (*self.led_here.get(capture.url, ()), capture.url)]
        teaser = self._teaser(requested, self.inventory.referer(capture))
        item = ArticleItem.from_article(article, fetched_at=iso_time(capture.date), status=capture.status,
                                        aliases=requested, teaser=teaser, warc=(capture.warc_file, capture.offset),
                                        documents=summary.documents, search_stems=summary.search_stems)
        row = item_row(item)
        missing = missing_field(row)
        if missing is not None:
            self.outcome.dropped[f"no_{missing}"] += 1
            return None
        return row

    def _note_section_title(self, capture, page) -> None:
        """A section's first listing page names the section, for its articles no menu names (as in a crawl:
        :meth:`archiver.crawl.bookkeeping.CrawlBookkeeping._note_section_title`)."""
        url, section = canonical_url(capture.url, self.profile), self.profile.section_url
        if page.title and section is not None and section.search(urlsplit(url).path) and \
                listing_root(url, self.profile) == url:
            self.section_titles.setdefault(url, page.title)

    def _teaser(self, requested: list[str], referer: str) -> tuple | None:
        """How a listing showed the article: as a crawl's request carries the entry of the link it followed, the
        entry in the page its request names as Referer (a redirect's source first); else the first listing's."""
        for url in requested:
            found = self.teasers.get(url, {}).get(referer)
            if found:
                return found
        return next((self.first_teasers[url] for url in requested if url in self.first_teasers), None)


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Close the event loop, its tasks (pages handed out, when the rebuild stopped early) cancelled first."""
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.close()


__all__ = ["Rebuild", "Outcome", "BadInput", "ArchiveLocked", "LOCKED", "WRITE_FAILED", "INTERRUPTED"]
