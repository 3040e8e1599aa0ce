"""``archiver rebuild`` against a real crawl of the replica: the archive re-derived from its WARC files equals the
crawl's; a changed extraction rule re-extracts only the articles it changes; bad input gets one line and its
exit code. One crawl, shared (module scope); each rebuild is a real ``archiver rebuild`` subprocess."""

from __future__ import annotations

import gzip
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.archive.lock import ArchiveLock
from archiver.archive.storage import Archive
from archiver.cli import project_root
from archiver.profiles import PROFILE_DIR
from archiver.replica import ReplicaSite, serve_replica

from archive_dump import described, differences, dump, listing_entries
from conftest import assert_matches_ground_truth, rows, run_crawl

# A paragraph the replica ends some articles with (a signature), not all: a profile that calls it boilerplate
# changes those articles' text, and no other.
SIGNATURE = {"en": "The CSTO Press Secretary Vladimir Zaynetdinov", "ru": "Пресс-секретарь ОДКБ Владимир Зайнетдинов"}


def rebuild(db, *args, processes: int = 2) -> subprocess.CompletedProcess:
    """A real ``archiver rebuild`` (stderr is a pipe: no live display, one summary line)."""
    command = [sys.executable, "-m", "archiver.cli", "rebuild", "--db", str(db), "--processes", str(processes),
               *map(str, args)]
    return subprocess.run(command, cwd=project_root(), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """One crawl of the smallest replica, with its WARC files and media store."""
    site = ReplicaSite(articles_per_language=34, seed=30)
    with serve_replica(site, port=0, hosts=("127.0.0.31", "127.0.0.32"), external_host="127.0.0.33",
                       slow_seconds=0.5, huge_page_bytes=300_000) as server:
        server.site = site
        db = tmp_path_factory.mktemp("crawl") / "archive.db"
        result = run_crawl(server.seeds, db)
        assert result.returncode == 0, result.log[-3000:]
        assert_matches_ground_truth(server, db)
    return db


def test_rebuild_into_an_empty_database_equals_the_crawl(crawled, tmp_path):
    db = tmp_path / "rebuilt.db"
    done = rebuild(db, "--warc", crawled.parent / "warc")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("Rebuild run 1:"), done.stderr
    assert not (found := unexplained(described(differences(dump(crawled), dump(db))), crawled)), "\n".join(found)
    assert_same_listing_entries(crawled, db)
    assert rows(crawled, "select count(*) from images where sha256 is not null")[0][0] > 0  # media were linked
    # Media linked, never downloaded: every file is in the rebuilt archive's own media store, from the WARC.
    for (path, size) in rows(db, "select path, bytes from images where path is not null"):
        assert (tmp_path / path).stat().st_size == size
    # Every record indexed (compared above): the rebuilt archive checks out against the crawl's WARC files.
    checked = subprocess.run([sys.executable, "-m", "archiver.cli", "verify", "--db", str(db), "--warc-dir",
                              str(crawled.parent / "warc")], cwd=project_root(), capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    run = rows(db, "select * from crawl_runs")[0]
    assert (run["mode"], run["status"], run["exit_code"]) == ("rebuild", "finished", 0)
    assert run["articles_new"] == rows(db, "select count(*) from articles")[0][0]
    skipped = rows(db, "select items_dropped from crawl_runs")[0][0]
    assert '"media":' in skipped and '"redirect":' in skipped


def unexplained(found: list[str], crawled) -> list[str]:
    """Differences but for a section title a crawl left empty that the rebuild took from the section's listing
    page (crawls that name sections from their listing pages leave none empty), and for an article fetched
    twice in a run, under its URL and one of its aliases, whose row points at the other capture: a crawl keeps
    the capture whose item reached the archive first, which the media downloads between decide."""
    def explained(line: str) -> bool:
        if re.fullmatch(r"articles \S+: section_title None != '[^']+'", line):
            return True
        pointer = re.fullmatch(r"articles (\S+): warc_offset (\d+) != (\d+)", line)
        if pointer is None:
            return False
        url, offsets = pointer[1], [int(pointer[2]), int(pointer[3])]
        names = {url} | {row["url"] for row in rows(crawled, "select url_aliases.url from url_aliases join articles "
                                                             "on articles.id = article_id where articles.url = ?", url)}
        captured = {row["url"] for row in rows(crawled, "select captures.url from captures join articles on "
                                                        "captures.warc_file = articles.warc_file where articles.url = ?"
                                                        f" and captures.offset in ({offsets[0]}, {offsets[1]})", url)}
        return len(captured) == 2 and captured <= names
    return [line for line in found if not explained(line)]


def assert_same_listing_entries(crawled, db) -> None:
    """Each article's listing entry is how a listing showed it: the crawl's title and date where the crawl has an
    entry, and one at least as often. Which of the listings that show an article a crawl names depends on the
    order its workers finished pages in (docs/rebuild.md): the rebuild's is one of the crawl's listing pages."""
    crawl, rebuilt = listing_entries(crawled), listing_entries(db)
    assert set(crawl) <= set(rebuilt)
    assert {url: entry[:2] for url, entry in crawl.items()} == {url: rebuilt[url][:2] for url in crawl}
    listings = {row["url"] for row in rows(crawled, "select url from pages where kind = 'listing'")}
    assert {entry[2] for entry in rebuilt.values()} <= listings


def test_one_process_gives_the_same_archive(crawled, tmp_path):
    db = tmp_path / "rebuilt.db"
    done = rebuild(db, "--warc", crawled.parent / "warc", processes=0)
    assert done.returncode == 0, done.stderr
    assert not (found := unexplained(described(differences(dump(crawled), dump(db))), crawled)), "\n".join(found)


def test_rebuild_of_an_unchanged_archive_touches_nothing(crawled, tmp_path):
    db = copy_archive(crawled, tmp_path)
    before = [tuple(row) for row in rows(db, "select * from articles order by id")]
    done = rebuild(db)  # the WARC files next to the archive
    assert done.returncode == 0, done.stderr
    assert [tuple(row) for row in rows(db, "select * from articles order by id")] == before
    assert rows(db, "select count(*) from article_versions")[0][0] == 0
    assert "0 re-extracted" in done.stderr and "0 new" in done.stderr


def test_a_changed_rule_re_extracts_only_the_articles_it_changes(crawled, tmp_path):
    db = copy_archive(crawled, tmp_path)
    profile = tmp_path / "csto.toml"
    rules = (PROFILE_DIR / "csto.toml").read_text(encoding="utf-8")
    boilerplate = next(line for line in rules.splitlines() if line.startswith("boilerplate = ["))
    extra = ", ".join(f"'{line}'" for line in SIGNATURE.values())
    profile.write_text(rules.replace(boilerplate, boilerplate.replace("= [", f"= [{extra}, ")), encoding="utf-8")
    signed = {row["url"] for row in rows(db, "select url, text from articles")
              if any(line in row["text"].split("\n\n") for line in SIGNATURE.values())}
    assert 0 < len(signed) < rows(db, "select count(*) from articles")[0][0]
    before = {row["url"]: tuple(row) for row in rows(db, "select * from articles")}

    done = rebuild(db, "--profile", profile)
    assert done.returncode == 0, done.stderr
    versions = rows(db, "select a.url, v.reason, v.text as old, a.text as new, v.superseded_by_run as run "
                        "from article_versions v join articles a on a.id = v.article_id")
    assert {version["url"] for version in versions} == signed
    assert {version["reason"] for version in versions} == {"re-extracted"}
    for version in versions:
        assert not any(line in version["new"].split("\n\n") for line in SIGNATURE.values())
        assert [line for line in version["old"].split("\n\n") if line not in SIGNATURE.values()] == \
            version["new"].split("\n\n")
    after = {row["url"]: tuple(row) for row in rows(db, "select * from articles")}
    assert {url for url in after if after[url] != before[url]} == signed  # the others untouched
    run = rows(db, "select * from crawl_runs where mode = 'rebuild'")[0]
    assert run["articles_updated"] == len(signed) and run["articles_new"] == 0
    assert {version["run"] for version in versions} == {run["id"]}


def copy_archive(crawled: Path, tmp_path: Path) -> Path:
    """The crawl's archive, WARC files and media, copied (the database checkpointed first)."""
    with sqlite3.connect(crawled) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for name in ("warc", "media"):
        shutil.copytree(crawled.parent / name, tmp_path / name)
    shutil.copy(crawled, tmp_path / crawled.name)
    return tmp_path / crawled.name


# -- bad input ---------------------------------------------------------------------------------------------------


def assert_one_line(done, code: int, words: str) -> None:
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith("archiver rebuild: ") and done.stderr.count("\n") == 1, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr


def test_a_missing_directory(tmp_path):
    assert_one_line(rebuild(tmp_path / "a.db", "--warc", tmp_path / "nowhere"), 66, "no such file or directory")
    assert not (tmp_path / "a.db").exists()


def test_a_file_that_is_not_a_warc(tmp_path):
    (tmp_path / "notes.warc.gz").write_bytes(gzip.compress(b"just some text\n" * 10))
    assert_one_line(rebuild(tmp_path / "a.db", "--warc", tmp_path / "notes.warc.gz"), 66, "not a WARC file")
    (tmp_path / "plain.txt").write_text("hello\n")
    assert_one_line(rebuild(tmp_path / "a.db", "--warc", tmp_path / "plain.txt"), 66, "not a WARC file")


def test_a_damaged_record_writes_nothing(crawled, tmp_path):
    warc = next((crawled.parent / "warc").glob("*.warc.gz"))
    data = warc.read_bytes()
    damaged = tmp_path / warc.name
    damaged.write_bytes(data[: len(data) // 2] + b"\x00garbage" * 100 + data[len(data) // 2:])
    assert_one_line(rebuild(tmp_path / "a.db", "--warc", damaged), 65, "damaged WARC record")
    assert not (tmp_path / "a.db").exists()


def test_an_archive_in_use(crawled, tmp_path):
    lock = ArchiveLock(crawled)
    lock.acquire()  # as a crawl of this archive holds it
    try:
        assert_one_line(rebuild(crawled), 75, "the archive is in use")
    finally:
        lock.release()


def test_an_unknown_profile(tmp_path):
    assert_one_line(rebuild(tmp_path / "a.db", "--profile", "nosuchsite"), 2, "unknown site profile")


def test_an_older_archive_gets_the_reason_column(tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE article_versions (id INTEGER PRIMARY KEY, article_id INTEGER, title TEXT)")
    Archive(db).close()
    assert "reason" in {row["name"] for row in rows(db, "pragma table_info(article_versions)")}
