"""What earlier runs archived, and what a new run may therefore skip.

Modes of a run:

- ``first``: an empty archive; everything is fetched.
- ``incremental`` (the default on an existing archive): listings are read
  until ``LISTING_BARREN_LIMIT`` pages in a row bring nothing new; an article
  is fetched only if it is not archived yet, its listing entry (headline,
  date) changed, or it is due for a revisit (:mod:`archiver.archive.revisits`).
- ``complete``: the previous run died; listings are read as on a first
  crawl (so pages the dead run never reached are read), archived articles
  are still skipped.
- ``full`` (``-a full=1``): everything is fetched again, with conditional
  requests.

The crawl's bookkeeping (:mod:`archiver.crawl.bookkeeping`) chooses the mode
and fills a :class:`Knowledge` from the archive; the spider only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def run_mode(full: bool, after_interrupted_run: bool, archived_anything: bool) -> str:
    """The mode of a run (see above): asked for (``full``), or what the archive's state calls for."""
    if full:
        return "full"
    if after_interrupted_run:
        return "complete"
    return "incremental" if archived_anything else "first"


@dataclass
class ListingWindow:
    """The stretch of one listing a run read: its entries, and the dates its pages span.

    The lower bound is the median date of the deepest page read, so a pinned
    or misplaced old entry on the first page does not stretch the window.
    """

    seen: set[str] = field(default_factory=set)
    pages: dict[str, list[str]] = field(default_factory=dict)

    def add(self, page: str, url: str, date: str | None) -> None:
        self.seen.add(url)
        if date:
            self.pages.setdefault(page, []).append(date[:10])

    @property
    def newest(self) -> str | None:
        return max((max(dates) for dates in self.pages.values()), default=None)

    @property
    def oldest(self) -> str | None:
        return min((sorted(dates)[len(dates) // 2] for dates in self.pages.values()), default=None)

    def covers(self, date: str | None) -> bool:
        oldest, newest = self.oldest, self.newest
        return bool(date and oldest and oldest < date[:10] < newest)


class Knowledge:
    """What earlier runs learnt.

    ``known``: archived article URL -> (listing headline, listing date, listing URL).
    ``fetched``: every other URL fetched before -> its HTTP status (``None`` when it failed).
    ``revisits``: where a run starts besides its seeds: the section listings earlier runs found,
    the URLs a dead run left unfinished, and the archived articles due for a check.
    ``windows``: the stretch of each listing this run read (noted by the bookkeeping as pages come).
    """

    def __init__(self, known: dict[str, tuple], mode: str, fetched: dict[str, int | None] | None = None,
                 aliases: dict[str, set[str]] | None = None, revisits: list[str] | None = None):
        self.known, self.mode = known, mode
        self.fetched = fetched or {}
        self.aliases = aliases or {}
        self.revisits = revisits or []
        self.windows: dict[str, ListingWindow] = {}

    @property
    def skips_known(self) -> bool:
        return self.mode in ("incremental", "complete")

    @property
    def judges_listings_by_archive(self) -> bool:
        """Incremental runs call a listing page barren when all its entries are archived and unchanged."""
        return self.mode == "incremental"

    def entry_changed(self, url: str, teaser: tuple | None, listing: str) -> bool:
        """Does ``listing`` show the archived article differently than when it was archived?"""
        stored = self.known.get(url)
        if stored is None or teaser is None or not stored[0] or stored[2] != listing:
            return False  # unknown, or no entry of this listing to compare with
        return (stored[0], stored[1]) != (teaser[0], teaser[1])

    def wants(self, url: str, teaser: tuple | None, listing: str) -> bool:
        """Should this run fetch the article-like URL ``url``?"""
        if not self.skips_known:
            return True
        if url in self.known:
            return self.entry_changed(url, teaser, listing)
        if url in self.fetched:
            # Not an article last time: fetched again only if it failed for a
            # passing reason (5xx, timeout), not for a 404, a listing or junk.
            status = self.fetched[url]
            return status is None or status >= 500
        return True

    def is_news(self, url: str) -> bool:
        """A URL no earlier run has seen: on an incremental run, what keeps a listing worth paging."""
        return url not in self.known and url not in self.fetched

    def brings_news(self, url: str, teaser: tuple | None, listing: str) -> bool:
        """Does a new headline link keep ``listing`` worth paging? On an incremental run, only one to an
        article no run has seen, or whose entry in this listing changed; on other runs, any."""
        if not self.judges_listings_by_archive:
            return True
        return self.is_news(url) or self.entry_changed(url, teaser, listing)

    def note_listing_entry(self, listing: str, page: str, url: str, teaser: tuple) -> None:
        self.windows.setdefault(listing, ListingWindow()).add(page, url, teaser[1])

    def vanished(self) -> list[str]:
        """Archived articles that should have been in a listing window this run read, but were in none.

        Where an article should have been: the listing that first showed it, or the listing its URL sits
        under (``/news/<section>/`` for ``/news/<section>/<slug>/``), when that one was read: the first may
        be a home page's short press box, whose window soon ends above the article's date."""
        missing = []
        seen = set().union(*(window.seen for window in self.windows.values()))
        for url, (title, date, listing) in self.known.items():
            if ({url} | self.aliases.get(url, set())) & seen:
                continue
            windows = (self.windows.get(key) for key in dict.fromkeys((listing, parent_listing(url))) if key)
            if any(window is not None and window.covers(date) for window in windows):
                missing.append(url)
        return missing


def parent_listing(url: str) -> str:
    """The URL one path level up (``https://host/news/sec/slug/`` -> ``https://host/news/sec/``)."""
    head, slash, _ = url.rstrip("/").rpartition("/")
    return head + "/" if slash and head.count("/") >= 3 else ""
