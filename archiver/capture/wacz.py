"""``archiver wacz``: the archive's WARC files and page list packaged as one WACZ file (Web Archive Collection
Zipped, https://specs.webrecorder.net/wacz/1.1.1/), which ReplayWeb.page opens as it is and Browsertrix tools
read.

The ``wacz`` package from PyPI writes it (the ``wacz`` extra: ``pip install 'archiver[wacz]'``): the WARC files
stored as they are, an index of them (``indexes/``), ``pages/pages.jsonl`` and ``datapackage.json`` with each
file's SHA-256. The page list is every archived article at the date of its capture.
``wacz validate -f FILE`` checks the result.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

from ..archive.readonly import ReadOnlyArchive
from .verify import archive_dirs

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Archived pages"}


def page_lines(archive: ReadOnlyArchive) -> list[dict]:
    """The WACZ page list: each article with a capture (URL, title, capture date)."""
    return [{"url": url, "ts": date, "title": title or url} for url, title, date in archive.archived_pages()]


def write_pages(path: Path, pages: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for line in [PAGES_HEADER, *pages]:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def create(db: Path, output: Path, warc_dir: Path | None = None, out=sys.stdout) -> int:
    """Write the WACZ file ``output`` of the archive ``db``; returns the exit code."""
    try:
        from wacz.main import main as wacz_main
    except ImportError:
        print("archiver wacz: the wacz package is missing: pip install 'archiver[wacz]'", file=sys.stderr)
        return EXIT_FAILED
    if not Path(db).exists():
        print(f"archiver wacz: no archive {db}", file=sys.stderr)
        return EXIT_USAGE
    warc_dir = archive_dirs(db, warc_dir)[0]
    warcs = sorted(str(path) for path in warc_dir.glob("*.warc.gz")) if warc_dir.exists() else []
    if not warcs:
        print(f"archiver wacz: no WARC files in {warc_dir}", file=sys.stderr)
        return EXIT_USAGE
    archive = ReadOnlyArchive(db)
    try:
        pages = page_lines(archive)
    finally:
        archive.close()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="archiver-wacz-") as scratch:
        pages_file = Path(scratch) / "pages.jsonl"
        write_pages(pages_file, pages)
        chatter = io.StringIO()  # the package prints its progress: one line of ours instead
        with contextlib.redirect_stdout(chatter):
            code = wacz_main(["create", "-o", str(output), "-p", str(pages_file), "-c",
                              "--title", f"archiver: {Path(db).name}", *warcs])
    if code:
        print(f"archiver wacz: the wacz package failed: {chatter.getvalue().strip().splitlines()[-1:]}",
              file=sys.stderr)
        return EXIT_FAILED
    print(f"archiver wacz: {output}: {len(warcs)} WARC files, {len(pages)} pages, "
          f"{output.stat().st_size} bytes", file=out)
    return EXIT_OK


def wacz_command(arguments) -> int:
    output = Path(arguments.output or Path(arguments.db).with_suffix(".wacz"))
    return create(Path(arguments.db), output, getattr(arguments, "warc_dir", None))
