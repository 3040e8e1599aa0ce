"""The crawl's own per-URL state, kept in the archive database.

Scrapy's JOBDIR survives only a clean stop; this survives ``kill -9``. Each
URL a run schedules is ``seen``, each response ``fetched``, each archived
article ``stored`` (written in the same transaction as the article). A run
that died leaves ``seen`` URLs behind: the next run fetches them first.
The same table keeps each page's ``ETag`` / ``Last-Modified`` for
conditional requests: an article's only once the article is stored (in its
transaction), so that an article fetched but never stored is fetched again
whole, never answered "not modified".

This module is the only writer of ``pages``: :class:`CrawlState` for a run's
marks, :func:`mark_stored` for the archive's own writes of articles
(:meth:`archiver.archive.storage.Archive.save`), and its revisit schedule
(:mod:`archiver.archive.revisits`: :func:`make_due`, :func:`due_articles`).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from ..clock import utc_now
from .captures import restore_pointers
from .change_signals import changed_since_fetched
from .revisits import RevisitPolicy, count_due, due_articles, make_due, schedule_checked, schedule_unscheduled

__all__ = ["CrawlState", "RevisitPolicy", "due_articles", "make_due", "mark_for_refetch", "mark_stored"]

FLUSH_EVERY = 200  # state changes per transaction


def mark_stored(db, urls, http_status: int, fetched_at: str | None, run_id: int | None) -> None:
    """The crawl state of every URL that led to an article just archived: stored (in the caller's
    transaction, the article's)."""
    for url in urls:
        db.execute(
            "INSERT INTO pages (url, kind, state, http_status, fetched_at, run_id) VALUES (?, 'article', 'stored',"
            " ?, ?, ?) ON CONFLICT(url) DO UPDATE SET kind = 'article', state = 'stored',"
            " http_status = excluded.http_status, fetched_at = excluded.fetched_at, run_id = excluded.run_id",
            [url, http_status, fetched_at, run_id])


def mark_for_refetch(db, urls) -> None:
    """Archived articles whose capture was lost (:mod:`archiver.capture.repair`): scheduled again, without
    validators, so that the next run fetches them (:meth:`CrawlState.to_refetch`)."""
    db.conn.executemany(
        "INSERT INTO pages (url, kind, state) VALUES (?, 'article', 'seen') ON CONFLICT(url) DO UPDATE SET"
        " kind = 'article', state = 'seen', http_status = NULL, etag = NULL, last_modified = NULL",
        [(url,) for url in urls])


def first_listing_pages(urls, profile) -> list[str]:
    """Of listing ``urls``, the first pages of section listings (no pagination parameter, a section's path)."""
    roots = []
    for url in urls:
        parts = urlsplit(url)
        if any(profile.is_pagination_param(name) for name, _ in parse_qsl(parts.query)):
            continue
        if profile.section_url is None or profile.section_url.search(parts.path):
            roots.append(url)
    return roots


class CrawlState:
    """One run's crawl state, in its archive (an :class:`archiver.archive.storage.Archive`)."""

    def __init__(self, archive, run_id: int):
        self.archive, self.run_id = archive, run_id
        self.pending: list[tuple] = []
        self.redirects: dict[str, str] = {}  # redirect source -> where it ended, not fetched again
        self.article_validators: dict[str, tuple] = {}  # article page -> (ETag, Last-Modified), until stored
        self.revisit_policy = RevisitPolicy()  # the crawl's settings replace it (archiver.crawl.bookkeeping)
        self.section_titles: dict[str, str] = {}  # section listing -> the title its page shows

    # -- what earlier runs left -------------------------------------------

    def known_articles(self) -> dict[str, tuple[str | None, str | None, str | None]]:
        """Every archived article URL (and alias) -> its listing entry (title, date, listing URL)."""
        db = self.archive.db
        known = {url: (title, date, listing) for url, title, date, listing in
                 db.execute("SELECT url, listing_title, listing_date, listing_url FROM articles")}
        for (url,) in db.execute("SELECT url FROM url_aliases"):
            known.setdefault(url, (None, None, None))
        return known

    def aliases(self) -> dict[str, set[str]]:
        """Archived article URL -> the other URLs that lead to it."""
        found: dict[str, set[str]] = {}
        for url, alias in self.archive.db.execute(
                "SELECT articles.url, url_aliases.url FROM url_aliases JOIN articles ON articles.id = article_id"):
            found.setdefault(url, set()).add(alias)
        return found

    def note_listing_entry(self, url: str, title: str, date: str | None, listing: str) -> None:
        """Remember how a listing shows an archived article, the first time it is seen there."""
        self.archive.db.execute(
            "UPDATE articles SET listing_title = ?, listing_date = ?, listing_url = ? "
            "WHERE url = ? AND listing_title IS NULL", [title, date, listing, url])

    def touch(self, url: str) -> None:
        """An archived article answered "not modified": it is still there, and its next check further off."""
        with self.archive.db.atomic():
            self.archive.db.execute("UPDATE articles SET last_seen = ?, status = 'live' WHERE url = ?",
                                    [utc_now(), url])
            schedule_checked(self.archive.db, {url: False}, self.revisit_policy)

    def due_revisits(self, budget: int) -> tuple[list[str], int]:
        """The archived articles due for a check, the longest overdue first, at most ``budget``; and how many
        are due in all. Articles archived before revisits existed get their first schedule here."""
        schedule_unscheduled(self.archive.db, self.revisit_policy)
        return due_articles(self.archive.db, budget), count_due(self.archive.db)

    def changed_since_fetched(self, signalled: dict[str, str]) -> list[str]:
        """Of ``signalled`` (article URL -> when a sitemap or feed says it changed), the archived articles fetched
        before that, made due now (:func:`archiver.archive.change_signals.changed_since_fetched`)."""
        return changed_since_fetched(self.archive.db, signalled)

    def live_articles(self) -> int:
        return self.archive.db.execute("SELECT count(*) FROM articles WHERE status = 'live'").fetchone()[0]

    def fetched_pages(self) -> dict[str, int | None]:
        """Every URL earlier runs met that is not an archived article -> its HTTP status
        (``None`` when it failed or was never fetched). An article fetched but never stored (its run
        died first) is left out: it is still to be archived."""
        rows = self.archive.db.execute("SELECT url, http_status FROM pages WHERE state != 'stored' AND NOT "
                                       "(state = 'fetched' AND kind = 'article')")
        return {url: status for url, status in rows}

    def to_refetch(self) -> list[str]:
        """Archived articles a repair marked to be fetched again (:func:`mark_for_refetch`), whatever the mode."""
        rows = self.archive.db.execute(
            "SELECT url FROM pages WHERE state = 'seen' AND kind = 'article' AND http_status IS NULL"
            " AND url IN (SELECT url FROM articles)")
        return [url for (url,) in rows]

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """The ``ETag`` and ``Last-Modified`` the page had when last fetched."""
        row = self.archive.db.execute("SELECT etag, last_modified FROM pages WHERE url = ?", [url]).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def listing_roots(self, profile) -> list[str]:
        """Section listings found by earlier runs (first pages only), to be checked again: those that
        answered, whether with a page or with "not modified" (304: unchanged, not gone)."""
        rows = self.archive.db.execute("SELECT url FROM pages WHERE kind = 'listing' AND http_status IN (200, 304)")
        return first_listing_pages((url for (url,) in rows), profile)

    def unfinished(self) -> list[str]:
        """URLs earlier runs scheduled but never finished (several runs may have died in a row):
        to be fetched first."""
        rows = self.archive.db.execute(
            "SELECT url FROM pages WHERE state = 'seen' OR (state = 'fetched' AND kind = 'article')")
        return [url for (url,) in rows]

    # -- this run ------------------------------------------------------------

    def mark(self, url: str, state: str, kind: str | None = None, http_status: int | None = None,
             etag: str | None = None, last_modified: str | None = None) -> None:
        if kind == "article" and http_status == 200:
            # Kept until the article is stored (save_articles); meanwhile the page has none.
            self.article_validators[url] = (etag, last_modified)
            etag = last_modified = None
        self.pending.append((url, kind, state, http_status, etag, last_modified, utc_now(), self.run_id))
        if len(self.pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write pending state changes in one transaction (nested in the caller's, if any)."""
        if not self.pending:
            return
        rows, self.pending = self.pending, []
        with self.archive.db.atomic():
            self.archive.db.conn.executemany(
                "INSERT INTO pages (url, kind, state, http_status, etag, last_modified, fetched_at, run_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET"
                " kind = coalesce(excluded.kind, pages.kind),"
                # An article stored by this run is never downgraded by a late state change.
                " state = CASE WHEN pages.state = 'stored' AND pages.run_id = excluded.run_id"
                "   AND excluded.state = 'fetched' THEN 'stored' ELSE excluded.state END,"
                " http_status = coalesce(excluded.http_status, pages.http_status),"
                " etag = CASE WHEN excluded.http_status = 200 THEN excluded.etag ELSE pages.etag END,"
                " last_modified = CASE WHEN excluded.http_status = 200 THEN excluded.last_modified"
                "   ELSE pages.last_modified END,"
                " fetched_at = CASE WHEN excluded.state = 'seen' THEN pages.fetched_at ELSE excluded.fetched_at END,"
                " run_id = excluded.run_id",
                rows)

    def save_articles(self, articles: list[dict]):
        """Store a batch of articles together with the crawl state that led to them (their pages' validators
        too), in one transaction; returns the archive's :class:`~archiver.archive.storage.SaveCounts`."""
        with self.archive.db.atomic():
            self.flush()
            outcomes = self._content_outcomes(articles)
            counts = self.archive.save(articles, run_id=self.run_id)
            self._store_validators(articles)
            restore_pointers(self.archive.db, articles)
            schedule_checked(self.archive.db, outcomes, self.revisit_policy)
            return counts

    def _content_outcomes(self, articles: list[dict]) -> dict[str, bool | None]:
        """For the revisit schedule, before the batch is stored: ``{url: changed}`` for each article already
        archived under its URL (its content hash compared), ``None`` for a new one."""
        outcomes = {}
        for article in articles:
            row = self.archive.db.execute("SELECT content_hash FROM articles WHERE url = ?",
                                          [article["url"]]).fetchone()
            outcomes[article["url"]] = None if row is None else row[0] != article.get("content_hash")
        return outcomes

    def note_section_title(self, section_url: str, title: str) -> None:
        """The title a section's listing page shows, for its articles that no menu named (:meth:`name_sections`)."""
        self.section_titles.setdefault(section_url, title)

    def name_sections(self) -> int:
        """Articles stored without a section title take the one their section's listing page shows (at the end
        of a run, when every article is stored). Returns how many."""
        named = 0
        with self.archive.db.atomic():
            for section_url, title in self.section_titles.items():
                named += self.archive.db.execute(
                    "UPDATE articles SET section_title = ? WHERE section_url = ? AND coalesce(section_title, '') = ''",
                    [title, section_url]).rowcount
        return named

    def _store_validators(self, articles: list[dict]) -> None:
        urls = {url for article in articles for url in (article["url"], *(article.get("aliases") or ()))}
        found = [(*validators, url) for url in urls
                 if (validators := self.article_validators.pop(url, None)) is not None and any(validators)]
        self.archive.db.conn.executemany("UPDATE pages SET etag = ?, last_modified = ? WHERE url = ?", found)

    def note_redirect(self, sources: list[str], target: str) -> None:
        for source in sources:
            if source != target:
                self.redirects[source] = target

    def alias_redirects(self) -> int:
        """Redirect sources whose target is an archived article become its aliases (at the end of a
        run, when every target that was going to be stored is). Returns how many were added."""
        added = 0
        with self.archive.db.atomic():
            for source in self.redirects:
                article_id = self.archive.article_id_for(self._redirect_end(source))
                if article_id is not None and self.archive.article_id_for(source) is None:
                    self.archive.add_alias(source, article_id, utc_now())
                    added += 1
        self.redirects = {}
        return added

    def _redirect_end(self, source: str) -> str:
        """Where ``source``'s redirects end: a target that is a redirect source itself is followed (a page fetched
        again, whose redirect was requested after its first fetch, is dropped at the chain's next hop)."""
        seen, target = {source}, self.redirects[source]
        while target in self.redirects and target not in seen:
            seen.add(target)
            target = self.redirects[target]
        return target

    def record_removal(self, url: str, reason: str, http_status: int | None, gone: bool = False) -> bool:
        """A known article is gone (404, 410, or ``gone``) or vanished: recorded, never deleted. True if it is
        an archived article."""
        article_id = self.archive.article_id_for(url)
        if article_id is None:
            return False
        with self.archive.db.atomic():
            self.archive.db.execute(
                "INSERT INTO removals (article_id, url, reason, http_status, run_id, seen_at) VALUES (?, ?, ?, ?, ?, ?)",
                [article_id, url, reason, http_status, self.run_id, utc_now()])
            if gone or http_status in (404, 410):
                self.archive.db.execute("UPDATE articles SET status = 'gone' WHERE id = ?", [article_id])
        return True
