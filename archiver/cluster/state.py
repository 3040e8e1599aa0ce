"""The crawl state of cluster workers: what earlier rounds archived, read from Redis; what this one learns, sent
to the writer.

A single process reads and writes its crawl state (:class:`archiver.archive.crawl_state.CrawlState`) in the
archive. A worker has no archive, so:

- **reads** come from a snapshot the writer publishes (:func:`publish`) when a round finishes and when it
  starts on an archive that has none: the archived article URLs with their listing entries and aliases,
  every other URL fetched before with its status, the validators (``ETag``, ``Last-Modified``) of every
  page, the section listings to read again, the articles to fetch again and each article's next check (due by
  the clock of the round that reads it). Workers read it once, as they start (the crawl's bookkeeping asks
  :class:`WorkerState` as it asks a run's state), and so crawl incrementally like one process;
- **writes** (a URL seen or fetched with its validators, an article touched by a 304, a removal, a listing
  entry, a redirect, articles a sitemap or feed says changed) are sent through the item stream in order with
  the items, ``{"state": [[method, args], ...]}``, once the worker's records are on disk and before any item
  that follows them; the writer applies them to the round's own :class:`CrawlState` (:class:`StateReplay`),
  which stores an article with its validators exactly as one process does.

Snapshot keys (``<spider>:snapshot:<part>``) are replaced whole (``RENAME``), never half written.
"""

from __future__ import annotations

import json
import logging

from ..archive.crawl_state import first_listing_pages

logger = logging.getLogger(__name__)

# Methods of CrawlState a worker sends to the writer (with their arguments), in the order it calls them.
FORWARDED = ("mark", "touch", "note_listing_entry", "note_section_title", "record_removal",
             "changed_since_fetched")
PARTS = ("known", "fetched", "aliases", "validators", "listings", "refetch", "due", "fetch_times", "sitemaps",
         "meta")


def snapshot_key(stream: str, part: str) -> str:
    return f"{stream.rsplit(':', 1)[0]}:snapshot:{part}"


def redirects_key(stream: str) -> str:
    """The round's redirects that ended on a page already requested (source -> target): kept in Redis as they
    are met, made aliases when the round ends (a writer restarted meanwhile loses none)."""
    return f"{stream.rsplit(':', 1)[0]}:round:redirects"


# -- the writer's side ------------------------------------------------------------


def publish(server, archive, stream: str, run_id: int | None = None, policy=None) -> dict[str, int]:
    """Publish what workers need to crawl incrementally (see above); returns the size of each part. ``policy``:
    the crawl's revisit policy (:func:`archiver.crawl.bookkeeping.revisit_policy`)."""
    from ..archive.crawl_state import CrawlState
    from ..archive.revisits import schedule_unscheduled
    from ..archive.snapshot import (all_validators, answered_listings, article_fetch_times, revisit_schedule,
                                    sitemap_reads)

    state = CrawlState(archive, run_id or 0)
    state.revisit_policy = policy or state.revisit_policy
    parts = {
        "known": {url: json.dumps(entry) for url, entry in state.known_articles().items()},
        "fetched": {url: json.dumps(status) for url, status in state.fetched_pages().items()},
        "aliases": {url: json.dumps(sorted(urls)) for url, urls in state.aliases().items()},
        "validators": {url: json.dumps(pair) for url, pair in all_validators(archive.db).items()},
        "listings": {url: "1" for url in answered_listings(archive.db)},
        "refetch": {url: "1" for url in state.to_refetch()},
        "fetch_times": {url: json.dumps(times) for url, times in article_fetch_times(archive.db).items()},
        "sitemaps": {url: json.dumps(when) for url, when in sitemap_reads(archive.db).items()},
    }
    # The revisit schedule, not the articles due now: a round starts later, and its workers see what is due then.
    schedule_unscheduled(archive.db, state.revisit_policy)  # articles archived before revisits existed
    parts["due"] = {url: json.dumps(when) for url, when in revisit_schedule(archive.db).items()}
    live = state.live_articles()
    parts["meta"] = {"live": str(live), "articles": str(archive.count())}
    pipe = server.pipeline(transaction=True)
    for part, mapping in parts.items():
        key = snapshot_key(stream, part)
        if mapping:
            pipe.delete(key + ":new")
            for start in range(0, len(mapping), 10_000):  # large archives: several HSETs
                chunk = dict(list(mapping.items())[start:start + 10_000])
                pipe.hset(key + ":new", mapping=chunk)
            pipe.rename(key + ":new", key)
        else:
            pipe.delete(key)
    pipe.execute()
    sizes = {part: len(mapping) for part, mapping in parts.items()}
    logger.info("Published the crawl state for the next round: %d archived articles, %d other URLs, %d with "
                "validators", sizes["known"], sizes["fetched"], sizes["validators"])
    return sizes


def published(server, stream: str) -> bool:
    return bool(server.exists(snapshot_key(stream, "meta")))


class StateReplay:
    """The writer's :class:`CrawlState` of the round, given the calls workers sent."""

    def __init__(self, archive, run_id: int, server, stream: str, policy=None):
        from ..archive.crawl_state import CrawlState

        self.state = CrawlState(archive, run_id)
        self.state.revisit_policy = policy or self.state.revisit_policy  # the crawl's settings, as in one process
        self.run_id = run_id
        self.server, self.stream = server, stream

    def apply(self, calls: list) -> None:
        for name, args in calls:
            if name in FORWARDED and hasattr(self.state, name):
                getattr(self.state, name)(*args)

    def save(self, items: list[dict]):
        return self.state.save_articles(items)

    def finish(self) -> int:
        """The round's end: pending marks written, redirect sources made aliases (as a run ends)."""
        self.state.flush()
        key = redirects_key(self.stream)
        for source, target in self.server.hgetall(key).items():
            self.state.note_redirect([source.decode()], target.decode())
        aliased = self.state.alias_redirects()
        self.server.delete(key)
        if hasattr(self.state, "name_sections"):
            self.state.name_sections()
        return aliased


# -- the worker's side ------------------------------------------------------------


class LocalArchive:
    """What the crawl's change signals read of a run's archive (``archive.db``), from the snapshot: an in-memory
    copy (:func:`archiver.archive.snapshot.local_copy`). The articles they make due here are sent to the writer
    (:meth:`WorkerState.changed_since_fetched`)."""

    def __init__(self, state: "WorkerState"):
        from ..archive.snapshot import local_copy

        self.db = local_copy({url: tuple(times) for url, times in state._read("fetch_times").items()},
                             state.aliases(), state._read("sitemaps"))


class WorkerState:
    """What the crawl's bookkeeping asks of a run's crawl state, on a cluster worker (see above)."""

    def __init__(self, server, stream: str):
        self.server, self.stream = server, stream
        self.pending: list[list] = []
        self.revisit_policy = None  # set by the bookkeeping; the writer's schedule is the archive's
        self._known = self._read("known")
        self._validators = self._read("validators")
        self._archive = None

    @property
    def archive(self) -> LocalArchive:
        if self._archive is None:  # built when first asked for (sitemaps and feeds read with change signals)
            self._archive = LocalArchive(self)
        return self._archive

    def _read(self, part: str) -> dict:
        raw = self.server.hgetall(snapshot_key(self.stream, part))
        return {key.decode(): json.loads(value) for key, value in raw.items()}

    # -- reads: the published snapshot --------------------------------------

    def known_articles(self) -> dict[str, tuple]:
        return {url: tuple(entry) for url, entry in self._known.items()}

    def aliases(self) -> dict[str, set[str]]:
        return {url: set(urls) for url, urls in self._read("aliases").items()}

    def fetched_pages(self) -> dict[str, int | None]:
        return self._read("fetched")

    def validators(self, url: str) -> tuple[str | None, str | None]:
        pair = self._validators.get(url)
        return (pair[0], pair[1]) if pair else (None, None)

    def listing_roots(self, profile) -> list[str]:
        """As :meth:`CrawlState.listing_roots`: first pages of section listings that answered."""
        return first_listing_pages(self._read("listings"), profile)

    def to_refetch(self) -> list[str]:
        return list(self._read("refetch"))

    def unfinished(self) -> list[str]:
        return []  # the shared queue keeps what a dead worker left (archiver.cluster.scheduler)

    def due_revisits(self, budget: int) -> tuple[list[str], int]:
        """As :meth:`CrawlState.due_revisits`, from the published schedule: due by this worker's clock, the longest
        overdue first."""
        from ..clock import utc_now

        now = utc_now()
        due = sorted((when, url) for url, when in self._read("due").items() if when <= now)
        return [url for _, url in due[:budget]], len(due)

    def live_articles(self) -> int:
        return int(self._read("meta").get("live") or 0)

    # -- writes: sent to the writer --------------------------------------------

    def _send(self, name: str, *args) -> None:
        self.pending.append([name, list(args)])

    def mark(self, url, state, kind=None, http_status=None, etag=None, last_modified=None) -> None:
        self._send("mark", url, state, kind, http_status, etag, last_modified)

    def touch(self, url: str) -> None:
        self._send("touch", url)

    def note_listing_entry(self, url, title, date, listing) -> None:
        self._send("note_listing_entry", url, title, date, listing)

    def note_redirect(self, sources, target) -> None:
        mapping = {source: target for source in sources if source != target}
        if mapping:
            self.server.hset(redirects_key(self.stream), mapping=mapping)

    def note_section_title(self, section_url, title) -> None:
        self._send("note_section_title", section_url, title)

    def record_removal(self, url, reason, http_status, gone=False) -> bool:
        """Sent to the writer; True if ``url`` is an archived article (what the writer will find)."""
        self._send("record_removal", url, reason, http_status, gone)
        return url in self._known

    def changed_since_fetched(self, signalled: dict[str, str]) -> list[str]:
        """As :meth:`CrawlState.changed_since_fetched`, on this worker's copy; those found are sent to the writer,
        whose archive makes them due unless fetched since (by any worker): the next round sees what this round did
        not check."""
        from ..archive.change_signals import changed_since_fetched

        changed = changed_since_fetched(self.archive.db, signalled)
        if changed:
            self._send("changed_since_fetched", {url: signalled[url] for url in changed})
        return changed

    def flush(self) -> None:
        """Nothing to write here: the worker's outbox sends the calls (:meth:`take`)."""

    def take(self) -> list[list]:
        calls, self.pending = self.pending, []
        return calls
