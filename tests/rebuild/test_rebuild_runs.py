"""An archive made by two crawls (the second, later, finds an edited article and answers of 304 Not Modified),
rebuilt into an empty database from both runs' WARC files: the same articles, versions and captures."""

from __future__ import annotations

import pytest

from archiver.clock import utc_after
from archiver.replica import ReplicaSite, serve_replica, texts

from archive_dump import described, differences, dump
from conftest import rows, run_crawl
from test_rebuild import assert_same_listing_entries, rebuild, unexplained

LINKS_ONLY = ["SITEMAPS_ENABLED=0", "FEEDS_ENABLED=0"]
LATER = LINKS_ONLY + ["REVISIT_MAX_PER_RUN=1000", "DEGRADED_AFTER_DAYS_WITHOUT_NEW=-1"]


@pytest.fixture(scope="module")
def crawled_twice(tmp_path_factory):
    site = ReplicaSite(articles_per_language=34, seed=31)
    with serve_replica(site, port=0, hosts=("127.0.0.34", "127.0.0.35"), external_host="127.0.0.36",
                       slow_seconds=0.5, huge_page_bytes=300_000) as server:
        db = tmp_path_factory.mktemp("twice") / "archive.db"
        first = run_crawl(server.seeds, db, LINKS_ONLY)
        assert first.returncode == 0, first.log[-3000:]
        edited = next(a for a in site.articles("en") if not a.role and a.sections[0] != texts.HOME_ONLY_SECTION)
        site.edit_body(edited.key)
        with pytest.MonkeyPatch.context() as later:
            later.setenv("ARCHIVER_NOW", utc_after(100 * 86400))  # every archived article is due
            second = run_crawl(server.seeds, db, LATER)
        assert second.returncode == 0, second.log[-3000:]
    assert rows(db, "select count(*) from article_versions")[0][0] == 1
    return db


def test_two_runs_rebuild_into_the_same_archive(crawled_twice, tmp_path):
    db = tmp_path / "rebuilt.db"
    done = rebuild(db, "--warc", crawled_twice.parent / "warc")
    assert done.returncode == 0, done.stderr
    found = unexplained(described(differences(dump(crawled_twice), dump(db))), crawled_twice)
    assert not found, "\n".join(found)
    assert_same_listing_entries(crawled_twice, db)
    assert rows(db, "select reason from article_versions")[0][0] is None  # an edit between captures, as crawled
    assert '"not_modified"' in rows(db, "select items_dropped from crawl_runs")[0][0]
