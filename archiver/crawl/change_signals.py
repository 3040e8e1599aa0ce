"""Change signals for the crawl: archived articles a sitemap's ``<lastmod>`` or a feed item's ``updated`` says
changed since they were last fetched. They are made due in the archive's revisit schedule
(:mod:`archiver.archive.revisits`), and those the run's revisit budget still allows are checked in this run
(with a conditional request, as every check of an archived article), up to a budget of their own as large as the
schedule's (``REVISIT_MAX_PER_RUN``); the others come first in the next run.

And the sitemap files read whole (in the crawl state, kind ``sitemap``): a sitemap index's ``<lastmod>`` of a
file read since spares reading it again.
"""

from __future__ import annotations

from ..archive.change_signals import moment, sitemaps_read
from .bookkeeping import revisit_budget
from .runs import ArchiveRun


# Seconds between a sitemap's <lastmod> and our read of it within which the read may have missed the change (the
# read is dated when it ends).
READ_MARGIN = 300


class ChangeSignals:
    def __init__(self, crawler, logger):
        self.crawler, self.logger = crawler, logger
        self.budget: int | None = None  # checks this run may make, known once the archive is open
        self.checked = 0

    def state(self):
        """The run's crawl state in its archive; None without one (a cluster worker's goes to the writer)."""
        try:
            run = self.crawler.get_extension(ArchiveRun)
        except (KeyError, RuntimeError):
            return None
        state = run.state if run is not None and not run.locked else None
        return state if getattr(getattr(state, "archive", None), "db", None) is not None else None

    def due_now(self, signalled: dict[str, str], source: str) -> list[str]:
        """The archived articles of ``signalled`` (URL -> when ``source`` says it changed) to check in this run."""
        state = self.state()
        if not signalled or state is None:
            return []
        state.flush()  # the run's own fetches first: an article this run fetched is not due again
        changed = state.changed_since_fetched(signalled)  # a cluster worker's reaches the writer too
        if not changed:
            return []
        if self.budget is None:
            self.budget = revisit_budget(self.crawler.settings.get("REVISIT_MAX_PER_RUN"), state.live_articles())
        stats = self.crawler.stats
        # A budget of their own, apart from the schedule's due checks: a signal is evidence of an edit, a due
        # date a guess; the cap still holds when a site dates every entry "now".
        room = max(0, self.budget - self.checked)
        now = changed[:room]
        self.checked += len(now)
        stats.inc_value("archiver/revisits/signalled", len(changed))
        stats.inc_value("archiver/revisits/signalled_now", len(now))
        self.logger.info("%s: archived articles changed since fetched %d, checked now %d, due next run %d "
                         "(REVISIT_MAX_PER_RUN)", source, len(changed), len(now), len(changed) - len(now))
        return now

    def unchanged_sitemaps(self, listed: dict[str, str | None]) -> set[str]:
        """Of the files an index lists (URL -> its ``<lastmod>``), those read whole since that time."""
        state = self.state()
        if state is None or not listed:
            return set()
        read = sitemaps_read(state.archive.db, listed)
        unchanged = set()
        for url, last_read in read.items():
            changed, seen = moment(listed[url]), moment(last_read)
            if changed is not None and seen is not None and (seen - changed).total_seconds() > READ_MARGIN:
                unchanged.add(url)
        return unchanged

    def sitemap_read(self, url: str) -> None:
        state = self.state()
        if state is not None:
            state.mark(url, "fetched", kind="sitemap", http_status=200)

