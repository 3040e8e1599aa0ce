"""``archiver verify`` and ``archiver show``: the archive's fixity check, and the raw capture behind a row.

verify re-reads every WARC record named in ``captures`` (each gzip member on
its own, so one bad byte condemns one record, not the rest of its file),
checks its block and payload digests and that it is the record the row says,
that the rows cover each WARC file from its first byte to its last (a record
no row lists is reported), that the CDXJ index lists every response and
revisit, that every article points at a captured response, and that every
media file's SHA-256 matches its name and its rows. Any problem: exit 1.

``--repair`` first repairs what a crawl that did not finish left (:mod:`archiver.capture.repair`: torn
WARC tails truncated, whole records no row lists indexed, rows of lost records removed and their articles
marked to be fetched again), with one line per repair, then verifies. It takes the archive's lock: exit
75 while a crawl holds it.
"""

from __future__ import annotations

import hashlib
import io
import sys
import zlib
from collections import defaultdict
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from ..archive.readonly import ReadOnlyArchive
from ..stores import store_dir
from .index import capture_row, indexed
from .repair import read_member
from .verify_index import RecordProblem, index_problems, parse_line, read_record, summary

EXIT_OK, EXIT_PROBLEMS, EXIT_LOCKED = 0, 1, 75


def archive_dirs(db: str | Path, warc_dir=None, media_dir=None) -> tuple[Path, Path]:
    return (Path(warc_dir) if warc_dir else store_dir(db, "warc"),
            Path(media_dir) if media_dir else store_dir(db, "media"))


class Verifier:
    def __init__(self, db: str | Path, warc_dir=None, media_dir=None, out=sys.stdout):
        self.db_path = Path(db)
        self.warc_dir, self.media_dir = archive_dirs(db, warc_dir, media_dir)
        self.out = out
        self.problems: list[str] = []
        self.counts = defaultdict(int)
        self.read_back: dict[tuple[str, int, int], tuple] = {}  # records read whole: the index's check reuses them

    def problem(self, text: str) -> None:
        self.problems.append(text)
        print(text, file=self.out)

    def run(self) -> int:
        if not self.db_path.exists():
            self.problem(f"MISSING archive {self.db_path}")
            return EXIT_PROBLEMS
        archive = ReadOnlyArchive(self.db_path)
        tables = archive.tables()
        if "captures" in tables:
            self.check_warcs(archive)
            self.check_articles(archive)
        if "images" in tables:
            self.check_media(archive, tables)
        archive.close()
        summary = ", ".join(f"{value} {name}" for name, value in sorted(self.counts.items()))
        status = f"{len(self.problems)} PROBLEMS" if self.problems else "OK"
        print(f"archiver verify: {status}; checked {summary or 'nothing'}", file=self.out)
        return EXIT_PROBLEMS if self.problems else EXIT_OK

    # -- WARC records, captures, CDXJ ----------------------------------------

    def check_warcs(self, archive: ReadOnlyArchive) -> None:
        rows = archive.captures_in_file_order()
        by_file: dict[str, list] = defaultdict(list)
        for row in rows:
            by_file[row["warc_file"]].append(row)
        on_disk = {path.name for path in self.warc_dir.glob("*.warc.gz")} if self.warc_dir.exists() else set()
        for name in sorted(on_disk - set(by_file)):
            self.problem(f"UNINDEXED {name}: a WARC file no captures row lists")
        for name, records in sorted(by_file.items()):
            path = self.warc_dir / name
            if name not in on_disk:
                self.problem(f"MISSING {name}: {len(records)} captures, e.g. {records[0]['url']}")
                continue
            self.counts["WARC files"] += 1
            position = 0
            for row in records:
                if row["offset"] > position:
                    self.unlisted(path, position, row["offset"])
                elif row["offset"] < position:
                    self.problem(f"OVERLAP {name}@{row['offset']}: {row['url']}")
                self.check_record(path, row)
                position = row["offset"] + row["length"]
            size = path.stat().st_size
            if size > position:
                self.unlisted(path, position, size)
            elif size < position:
                self.problem(f"TRUNCATED {name}: {size} bytes, captures end at {position}")
        self.check_cdxj(rows)

    def check_record(self, path: Path, row) -> None:
        self.counts["WARC records"] += 1
        where = f"{path.name}@{row['offset']} {row['record_type']} {row['url']}"
        try:
            record, payload = read_record(path, row["offset"], row["length"])
        except RecordProblem as problem:
            self.problem(f"CORRUPT {where}: {problem}")
            return
        except OSError as error:
            self.problem(f"CORRUPT {where}: unreadable ({type(error).__name__}: {error})")
            return
        headers = record.rec_headers
        self.read_back[(path.name, row["offset"], row["length"])] = summary(record)
        if record.digest_checker.passed is False:
            self.problem(f"CORRUPT {where}: {'; '.join(map(str, record.digest_checker.problems))}")
        elif row["record_type"] in ("response", "revisit", "request") and \
                not headers.get_header("WARC-Block-Digest"):
            self.problem(f"CORRUPT {where}: no WARC-Block-Digest")
        if headers.get_header("WARC-Record-ID") != row["record_id"] or record.rec_type != row["record_type"]:
            self.problem(f"MISMATCH {where}: the file holds {record.rec_type} "
                         f"{headers.get_header('WARC-Record-ID')}, captures says {row['record_id']}")
        if (row["payload_digest"] or None) != (headers.get_header("WARC-Payload-Digest") or None):
            self.problem(f"MISMATCH {where}: payload digest differs from the captures row")
        found = capture_row(record, row["warc_file"], row["offset"], row["length"])
        for column in ("url", "warc_date", "status"):
            if found[column] != row[column]:
                self.problem(f"MISMATCH {where}: captures says {column} {row[column]}, the record {found[column]}")
        if record.rec_type == "response" and row["payload_digest"]:
            # warcio checks the payload digest only when it can; check it here in every case.
            from .warc import sha1_digest

            if sha1_digest(payload) != row["payload_digest"]:
                self.problem(f"CORRUPT {where}: payload digest mismatch")

    def unlisted(self, path: Path, start: int, end: int) -> None:
        """Bytes no captures row covers: name the records found there."""
        with open(path, "rb") as file:
            file.seek(start)
            chunk = file.read(end - start)
        try:
            found = [(record.rec_type, record.rec_headers.get_header("WARC-Target-URI"))
                     for record in ArchiveIterator(io.BytesIO(chunk))]
        except Exception as error:
            found = [(f"unreadable bytes ({type(error).__name__})", "")]
        for kind, url in found or [("unreadable bytes", "")]:
            self.problem(f"UNLISTED {path.name}@{start}..{end}: {kind} {url or ''} has no captures row".rstrip())

    def check_cdxj(self, rows) -> None:
        """Every CDXJ line against its record and the index's order (:mod:`archiver.capture.verify_index`), and
        the lines against the rows: one per response and revisit, none for anything else."""
        index = self.warc_dir / "index.cdxj"
        listed = set()
        if index.exists():
            for text in index_problems(index, self.warc_dir, self.read_back):
                self.problem(text)
            for line in index.read_text(encoding="utf-8").splitlines():
                try:
                    fields = parse_line(line)[2]
                    listed.add((fields["filename"], int(fields["offset"])))
                except (KeyError, ValueError, TypeError):
                    pass  # named above
        expected = {(row["warc_file"], row["offset"]): row for row in rows if indexed(row)}
        self.counts["CDXJ lines"] += len(listed)
        for key in sorted(set(expected) - listed):
            self.problem(f"NOT IN CDXJ {key[0]}@{key[1]}: {expected[key]['url']}")
        for key in sorted(listed - set(expected)):
            self.problem(f"STALE CDXJ line {key[0]}@{key[1]}: no such capture")

    def check_articles(self, archive: ReadOnlyArchive) -> None:
        captured = archive.captured_responses()
        for table in ("articles", "article_versions"):
            if "warc_file" not in archive.columns(table):
                continue
            for row in archive.capture_positions(table):
                self.counts[f"{table} with a capture"] += 1
                if (row[1], row[2]) not in captured:
                    self.problem(f"MISSING capture of {table} {row[0]}: {row[1]}@{row[2]}")

    # -- media ---------------------------------------------------------------

    def check_media(self, archive: ReadOnlyArchive, tables) -> None:
        digests: dict[Path, str] = {}

        def sha256_of(path: Path) -> str:
            if path not in digests:
                digest = hashlib.sha256()
                with open(path, "rb") as file:
                    for block in iter(lambda: file.read(1 << 20), b""):
                        digest.update(block)
                digests[path] = digest.hexdigest()
            return digests[path]

        base = self.db_path.parent
        for table, column in (("images", "src"), ("documents", "url")):
            if table not in tables:
                continue
            if "sha256" not in archive.columns(table):
                continue
            for row in archive.media_files(table, column):
                self.counts[f"{table} files"] += 1
                path = Path(row[3]) if Path(row[3]).is_absolute() else base / row[3]
                where = f"{table} {row[0]} {row[1]} ({row[3]})"
                if not path.exists():
                    self.problem(f"MISSING media {where}")
                elif sha256_of(path) != row[2]:
                    self.problem(f"CORRUPT media {where}: SHA-256 {sha256_of(path)} != {row[2]}")
                elif row[4] is not None and path.stat().st_size != row[4]:
                    self.problem(f"CORRUPT media {where}: {path.stat().st_size} bytes, row says {row[4]}")
        if self.media_dir.exists():
            for path in sorted(p for p in self.media_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
                self.counts["media files on disk"] += 1
                if sha256_of(path) != path.name.split(".")[0]:
                    self.problem(f"CORRUPT media file {path}: its SHA-256 is {sha256_of(path)}")


def verify(arguments) -> int:
    if getattr(arguments, "repair", False):
        locked = repair(arguments.db, arguments.warc_dir)
        if locked is not None:
            return locked
    return Verifier(arguments.db, arguments.warc_dir, arguments.media_dir).run()


def repair(db, warc_dir=None, out=sys.stdout) -> int | None:
    """``verify --repair``'s repair, under the archive's lock: one line per repair. Returns the exit code when it
    could not run (a crawl holds the archive), else None."""
    from ..archive.lock import ArchiveLock, ArchiveLocked
    from ..archive.storage import Archive
    from .repair import repair_archive

    if not Path(db).exists():
        return None  # the verification says so
    lock = ArchiveLock(db)
    try:
        lock.acquire()
    except ArchiveLocked as locked:
        print(f"archiver verify: a crawl holds the archive ({locked}): repair it once the crawl has ended",
              file=sys.stderr)
        return EXIT_LOCKED
    try:
        archive = Archive(db)
        try:
            repairs = repair_archive(archive.db, archive_dirs(db, warc_dir)[0])
        finally:
            archive.close()
    finally:
        lock.release()
    for line in repairs.lines:
        print(f"REPAIRED {line}", file=out)
    for line in repairs.unrepaired:
        print(f"NOT REPAIRED {line}", file=out)
    print(f"archiver verify --repair: {repairs.summary()}", file=out)
    return None


# -- show ------------------------------------------------------------------------


def find_capture(archive: ReadOnlyArchive, target: str):
    """The article (by id or URL, aliases too) and its response capture row."""
    article = None
    if target.isdigit():
        article = archive.article_by_id(int(target))
    if article is None:
        from ..extraction.normalize import canonical_url

        for url in dict.fromkeys([target, canonical_url(target)]):
            article = archive.article_by_url(url)
            if article is not None:
                break
    return article


def show(arguments) -> int:
    warc_dir, _ = archive_dirs(arguments.db, arguments.warc_dir)
    archive = ReadOnlyArchive(arguments.db)
    article = find_capture(archive, arguments.article)
    if article is None:
        print(f"archiver show: no article {arguments.article!r} in {arguments.db}", file=sys.stderr)
        return 2
    if not article["warc_file"]:
        print(f"archiver show: article {article['id']} has no WARC capture (archived with WARC_ENABLED off?)",
              file=sys.stderr)
        return 2
    chain = []
    row = archive.capture_at(article["warc_file"], article["warc_offset"])
    while row is not None and row["record_type"] == "revisit" and len(chain) < 5:
        chain.append(row)
        row = archive.revisited_response(row)
    if row is None:
        print(f"archiver show: capture {article['warc_file']}@{article['warc_offset']} not in the captures table",
              file=sys.stderr)
        return 1
    record, payload = read_member(warc_dir / row["warc_file"], row["offset"], row["length"])
    out = sys.stdout.buffer
    if not arguments.raw:
        lines = [f"article {article['id']}: {article['url']}"]
        for revisit in chain:
            lines.append(f"revisit {revisit['warc_file']}@{revisit['offset']} {revisit['warc_date']} "
                         f"(identical payload, stored once):")
        lines.append(f"WARC {row['warc_file']}@{row['offset']} {row['record_type']} {row['warc_date']} "
                     f"{row['url']} {row['payload_digest']}")
        out.write(("\n".join(f"# {line}" for line in lines) + "\n").encode("utf-8"))
    http_headers = record.http_headers
    if chain:  # what the server answered this time; the payload is the original's
        http_headers = read_member(warc_dir / chain[0]["warc_file"], chain[0]["offset"], chain[0]["length"])[0]\
            .http_headers
    out.write(http_headers.to_bytes())
    encoding = (http_headers.get_header("Content-Encoding") or "").lower()
    if encoding in ("gzip", "x-gzip", "deflate") and not arguments.raw:
        try:
            payload = zlib.decompress(payload, 47 if "gzip" in encoding else 15)
            out.write(f"# (body shown decoded from Content-Encoding: {encoding}; --raw for the bytes)\n"
                      .encode("utf-8"))
        except zlib.error:
            pass
    out.write(payload)
    out.flush()
    return 0
