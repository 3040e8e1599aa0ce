"""``archiver rebuild``'s speed and memory: pages a second with one extraction process and with one per core,
against bare trafilatura over the same pages, and the peak memory of the whole process tree.

    python benchmarks/rebuild.py --sizes 5000 20000          # the issue's sizes (a crawl of each replica first)
    python benchmarks/rebuild.py --sizes 200 --repeat 1      # a quick check that it works
    python benchmarks/rebuild.py --capture /path/to/dir      # an existing archive's warc/ (no crawl)

For each size a replica of that many articles (both languages) is served and crawled once, all cores, into a
temporary directory (bench.py's crawl: media off, no politeness delays); the rebuild then reads that crawl's
WARC files. One process is ``--processes 0`` on one core (``taskset -c 0``: reading, extraction and writing in
the one process); all processes is one extraction worker per core, every core. Each rebuild (a real
``archiver rebuild`` subprocess into a new database) is timed whole, from its start to its exit (both passes
over the WARC files, start-up and the analysis layer's refresh included), and ``--repeat`` times: the fastest
run is reported, with the highest memory peaks seen (one process and every core are run in turn). Bare
trafilatura (``trafilatura.extract`` on each HTML page's bytes, in this process) is timed over the same pages,
the WARC reading around it not timed. Targets (issue 30): one process at least 80 % of bare trafilatura's rate,
every core at least 1.8 times one process, peak memory (PSS of the process tree) under 300 MB at 20,000
articles.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from archiver.crawl.workers import available_cores
from archiver.rebuild.records import read_records, warc_paths
from bench import crawl, serve_replica, versions
from measure import ROOT, run_measured

MB = 1024 * 1024


def html_pages(warc_dir: Path):
    """(url, body, content type) of every HTML page the WARC files hold, streamed (revisits left out)."""
    for path in warc_paths([warc_dir]):
        for capture in read_records(path):
            if capture.record_type == "response" and capture.is_html_page:
                yield capture.url, capture.own_payload(), capture.content_type


def bare_trafilatura(warc_dir: Path) -> dict:
    """One pass of ``trafilatura.extract`` over the pages, only the extraction timed."""
    import trafilatura

    seconds, pages = 0.0, 0
    for _, body, _ in html_pages(warc_dir):
        started = time.perf_counter()
        trafilatura.extract(body)
        seconds += time.perf_counter() - started
        pages += 1
    return {"seconds": seconds, "pages": pages, "pages_per_second": pages / seconds if seconds else 0.0}


def rebuild(warc_dir: Path, workdir: Path, processes: int, one_core: bool = False) -> dict:
    db = workdir / f"rebuild-{processes}" / "archive.db"
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir(parents=True)
    command = [sys.executable, "-m", "archiver.cli", "rebuild", "--db", str(db), "--warc", str(warc_dir),
               "--processes", str(processes)]
    result = run_measured(command, one_core=one_core)
    with sqlite3.connect(db) as conn:
        result["articles"] = conn.execute("select count(*) from articles").fetchone()[0]
    result.pop("stdout")
    shutil.rmtree(db.parent, ignore_errors=True)
    return result


def fastest(runs: list[dict]) -> dict:
    best = dict(min(runs, key=lambda run: run["seconds"]))
    for key in ("peak_rss_main", "peak_rss_all", "peak_pss_all"):
        best[key] = max(run[key] for run in runs)
    return best


def bench(warc_dir: Path, workdir: Path, repeat: int, crawled_articles: int | None) -> dict:
    pages = sum(1 for _ in html_pages(warc_dir))
    bare = min((bare_trafilatura(warc_dir) for _ in range(repeat)), key=lambda run: run["seconds"])
    every = available_cores()
    # One process: extraction in the rebuild's own process, on one core (taskset), as bench.py's one-core crawl.
    # Taken alternately with every core, so that a drift of the machine's speed weighs on both alike.
    ones, alls = [], []
    for _ in range(repeat):
        ones.append(rebuild(warc_dir, workdir, 0, one_core=True))
        alls.append(rebuild(warc_dir, workdir, every))
    one, all_cores = fastest(ones), fastest(alls)
    for run in (one, all_cores):
        run["pages_per_second"] = pages / run["seconds"]
    return {
        "articles": crawled_articles if crawled_articles is not None else one["articles"],
        "html_pages": pages,
        "warc_bytes": sum(path.stat().st_size for path in warc_paths([warc_dir])),
        "cores": every,
        "bare_trafilatura_pages_per_second": round(bare["pages_per_second"], 1),
        "one_process_pages_per_second": round(one["pages_per_second"], 1),
        "all_processes_pages_per_second": round(all_cores["pages_per_second"], 1),
        "one_process_vs_bare": round(one["pages_per_second"] / bare["pages_per_second"], 3),
        "all_vs_one_process": round(all_cores["pages_per_second"] / one["pages_per_second"], 3),
        "peak_pss_all_mb": round(max(one["peak_pss_all"], all_cores["peak_pss_all"]) / MB, 1),
        "peak_rss_main_mb": round(max(one["peak_rss_main"], all_cores["peak_rss_main"]) / MB, 1),
        "articles_rebuilt": one["articles"],
        "runs": {"one_process": one, "all_processes": all_cores, "bare_trafilatura": bare},
    }


def crawled_capture(size: int, workdir: Path) -> tuple[Path, int]:
    """A crawl of a replica of ``size`` articles: its WARC directory and its article count."""
    server, seeds = serve_replica(size // 2)
    try:
        db = workdir / f"crawl-{size}.db"
        result = crawl(seeds, db, ["EXTRACTION_PROCESSES=auto"])
    finally:
        server.kill()
    return Path(f"{db.with_suffix('')}-warc"), result["articles"]  # bench.py's WARC_DIR


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000], help="articles (both languages)")
    parser.add_argument("--capture", type=Path, help="a directory of WARC files to rebuild from (no crawl)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each measure; the fastest is reported (default: 3)")
    parser.add_argument("--output", type=Path, help="JSON file (default: benchmarks/results/rebuild-<time>.json)")
    arguments = parser.parse_args()
    repeat = max(1, arguments.repeat)
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        if arguments.capture:
            results.append(bench(arguments.capture, Path(workdir), repeat, None))
        else:
            for size in arguments.sizes:
                warc_dir, articles = crawled_capture(size, Path(workdir))
                results.append(bench(warc_dir, Path(workdir), repeat, articles))
                print(f"measured {size} articles", file=sys.stderr)
    report = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "versions": versions(),
        "results": results,
    }
    output = arguments.output or ROOT / "benchmarks" / "results" / f"rebuild-{report['when'].replace(':', '')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    for result in results:
        print(json.dumps({key: value for key, value in result.items() if key != "runs"}, indent=1))
    print(f"JSON: {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
