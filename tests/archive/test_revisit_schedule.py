"""The revisit schedule on a real archive: a new article's first interval is a share of its age, unchanged
doubles and changed halves within the bounds, a second look in the same run changes nothing, and the due
articles come longest overdue first."""

from __future__ import annotations

from archiver.archive.crawl_state import CrawlState
from archiver.archive.revisits import RevisitPolicy, due_articles
from archiver.archive.run_log import RunLog
from archiver.archive.storage import Archive
from archiver.extraction.normalize import content_hash

from test_storage import article

DAY, HOUR = 86400, 3600


def schedule(db, url):
    return tuple(db.execute("select revisit_interval, next_revisit from pages where url = ?", [url]).fetchone())


def crawl_state(path) -> CrawlState:
    archive = Archive(path)
    return CrawlState(archive, run_id=RunLog(archive).open(pid=1))


def archived(tmp_path, monkeypatch, now, **fields):
    """An archive holding one article stored at ``now``; its crawl state and URL."""
    monkeypatch.setenv("ARCHIVER_NOW", now)
    state = crawl_state(tmp_path / "a.db")
    row = article(fetched_at=now, **fields)
    state.mark(row["url"], "stored", "article", 200)
    state.save_articles([row])
    return state, row


def test_first_interval_is_a_twentieth_of_the_age_within_bounds():
    policy = RevisitPolicy()
    assert policy.first("2026-11-21T00:00:00+00:00", "2026-11-01") == 20 * DAY // 20
    assert policy.first("2026-11-01T02:00:00+00:00", "2026-11-01") == HOUR  # never below the minimum
    assert policy.first("2026-11-01T00:00:00+00:00", "2016-11-01") == 90 * DAY  # nor above the maximum
    assert policy.first("2026-11-01T00:00:00+00:00", None) == DAY  # no date: the initial interval
    assert RevisitPolicy(age_share=0.5).first("2026-11-21T00:00:00+00:00", "2026-11-01") == 10 * DAY


def test_unchanged_doubles_changed_halves_and_a_second_look_in_one_run_changes_nothing(tmp_path, monkeypatch):
    state, row = archived(tmp_path, monkeypatch, "2026-11-21T00:00:00+00:00", published="2026-11-01")
    db, url = state.archive.db, row["url"]
    assert schedule(db, url) == (DAY, "2026-11-22T00:00:00+00:00")

    # The same article again ten minutes later (another URL of it in the same run): no news about its changes.
    monkeypatch.setenv("ARCHIVER_NOW", "2026-11-21T00:10:00+00:00")
    state.save_articles([row])
    assert schedule(db, url) == (DAY, "2026-11-22T00:00:00+00:00")

    monkeypatch.setenv("ARCHIVER_NOW", "2026-11-22T01:00:00+00:00")
    state.touch(url)  # a 304
    assert schedule(db, url) == (2 * DAY, "2026-11-24T01:00:00+00:00")

    monkeypatch.setenv("ARCHIVER_NOW", "2026-11-24T02:00:00+00:00")
    edited = {**row, "text": "Body text, corrected", "fetched_at": "2026-11-24T02:00:00+00:00"}
    edited["content_hash"] = content_hash(edited["title"], edited["published"], edited["text"])
    state.save_articles([edited])
    assert schedule(db, url) == (DAY, "2026-11-25T02:00:00+00:00")


def test_due_articles_longest_overdue_first(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVER_NOW", "2026-11-21T00:00:00+00:00")
    state = crawl_state(tmp_path / "a.db")
    # Published 2, 20 and 200 days before: first checks after 2.4 h, 1 day and 10 days.
    rows = [article(url=f"https://x.org/news/a/{days}/", published=published, fetched_at="2026-11-21T00:00:00+00:00")
            for days, published in ((2, "2026-11-19"), (20, "2026-11-01"), (200, "2026-05-05"))]
    for row in rows:
        state.mark(row["url"], "stored", "article", 200)
    state.save_articles(rows)
    db = state.archive.db
    assert due_articles(db, now="2026-11-21T02:00:00+00:00") == []
    assert due_articles(db, now="2026-11-22T00:00:00+00:00") == [rows[0]["url"], rows[1]["url"]]
    assert due_articles(db, limit=1, now="2026-12-30T00:00:00+00:00") == [rows[0]["url"]]
