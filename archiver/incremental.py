"""What earlier runs archived, and what a new run may therefore skip.

Modes of a run:

- ``first``: an empty archive; everything is fetched.
- ``incremental`` (the default on an existing archive): listings are read
  until ``LISTING_BARREN_LIMIT`` pages in a row bring nothing new; an article
  is fetched only if it is not archived yet or its listing entry (headline,
  date) changed.
- ``complete``: the previous run died; listings are read as on a first
  crawl (so pages the dead run never reached are read), archived articles
  are still skipped.
- ``full`` (``-a full=1``): everything is fetched again, with conditional
  requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ListingWindow:
    """The stretch of one listing a run read: its entries and their date range."""

    seen: set[str] = field(default_factory=set)
    newest: str | None = None
    oldest: str | None = None

    def add(self, url: str, date: str | None) -> None:
        self.seen.add(url)
        if date:
            day = date[:10]
            self.newest = max(self.newest or day, day)
            self.oldest = min(self.oldest or day, day)

    def covers(self, date: str | None) -> bool:
        return bool(date and self.oldest and self.oldest < date[:10] < self.newest)


class Knowledge:
    """Archived article URL -> (listing headline, listing date, listing URL)."""

    def __init__(self, known: dict[str, tuple], mode: str):
        self.known, self.mode = known, mode
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
        """Should this run fetch the article at ``url``?"""
        if not self.skips_known or url not in self.known:
            return True
        return self.entry_changed(url, teaser, listing)

    def note_listing_entry(self, listing: str, url: str, teaser: tuple) -> None:
        self.windows.setdefault(listing, ListingWindow()).add(url, teaser[1])

    def vanished(self) -> list[str]:
        """Archived articles that should have been in a listing window this run read, but were not there."""
        missing = []
        for url, (title, date, listing) in self.known.items():
            window = self.windows.get(listing) if listing else None
            if window and url not in window.seen and window.covers(date):
                missing.append(url)
        return missing
