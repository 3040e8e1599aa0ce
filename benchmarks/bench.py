"""Speed and memory of archiver, side by side with the limits of its parts, in one run.

    python benchmarks/bench.py                    # 1,000 articles
    python benchmarks/bench.py --sizes 1000 5000 20000 --repeat 3

For each size a replica of the site (same structure as the test replica) is
served on loopback by its own process, warmed by an all-cores crawl that is not measured (the replica
renders each page once, the first time it is asked for it), and measured:

1. bare Scrapy following the links to the same pages (no extraction, no storage): the framework's bound;
2. trafilatura extraction alone over the same pages, in one process: the extraction bound;
3. the full ``scrapy crawl news`` pipeline, on one core (``EXTRACTION_PROCESSES=0``, pinned to one CPU) and
   on all cores: pages per second, requests per archived article, peak RSS, database size;
4. the incremental re-crawl of the unchanged site: its requests as a share of the first crawl's; and after
   20 new articles are published at the top of the listings: how many of them that re-crawl archives.

AutoThrottle and download delays are OFF here (and only here): the replica is ours and on loopback, and 32
requests are in flight (``CONCURRENCY``) in every crawl and in bare Scrapy. Media downloads and page requisites
are off too (the bounds fetch the pages only, and requests per article count pages only); WARC capture is on, as by
default. One more all-cores crawl with page requisites on gives their cost apart: its pages a second and its
requisite requests per article.
Each measure is taken ``--repeat`` times, in rounds that take every measure once (the one-core crawl,
the all-cores crawl, bare Scrapy, trafilatura alone), and the fastest run of each is reported, as timeit
does: on a shared machine the slower runs measure the neighbours, and a slow phase hits all four alike. The
one-core share and the speed-up are also given from the median run of each measure, which one fast run
cannot decide, and as the median of each round's own ratios, from which the machine's drift between rounds
cancels out. Each crawl (and bare Scrapy) is also split by benchmarks/timeline.py into its start (process
start to first response), its steady rate (its pages over the time from its first response to its last)
and its end (last response to exit): the ``steady_…`` ratios compare the per-page work alone, as
trafilatura's loop (timed without its import) does, and the start and end show what a short crawl pays
whatever its size.
The CPU time of every process of a crawl (and of the replica meanwhile) is read too: CPU a page in each
mode, the cores busy during the all-cores crawl, and the speed-up it would reach with every core busy
(``all_cores_speedup_if_every_core_busy``): the ceiling the machine sets, whatever the crawler's design.
The machine's own count of busy CPU time (``/proc/stat``: every process, the replica and the kernel's work)
gives the cores the all-cores crawl kept busy, and the speed-up each round would reach had every core been
busy from the end of the framework's own start (bare Scrapy's, to its first response: one process works
alone until then) to the crawl's exit (``all_cores_speedup_if_every_core_busy_after_framework_start``).
Prints one table and writes JSON to benchmarks/results/ so runs can be compared across commits.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import psutil

from archiver import settings as project_settings
from archiver.crawl.workers import available_cores
from measure import ROOT, run_measured, steady_rate

# Requests in flight, in every measured crawl and in bare Scrapy. 32 since 1e50d8a, when 16 left the all-cores
# crawl's workers waiting; that was the replica holding every page's body 40 ms (Nagle's algorithm, fixed in
# 3b9811d), and 16 and 32 now run alike. 32 stays so that rounds compare (benchmarks/NOTES.md).
CONCURRENCY = 32
# Media downloads and page requisites are off: the bounds fetch the same pages, and "requests per article" counts
# pages only, as the targets do. WARC capture stays on. REQUISITES measures the requisites' cost apart.
FAST = ["AUTOTHROTTLE_ENABLED=0", "DOWNLOAD_DELAY=0", f"CONCURRENT_REQUESTS={CONCURRENCY}",
        f"CONCURRENT_REQUESTS_PER_DOMAIN={CONCURRENCY}", "RETRY_BACKOFF_BASE=0.1", "DOWNLOAD_TIMEOUT=10",
        "LOG_LEVEL=WARNING", "MEDIA_ENABLED=0", "REQUISITES_ENABLED=0"]
REQUISITES = ["EXTRACTION_PROCESSES=auto", "REQUISITES_ENABLED=1"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_replica(articles_per_language: int):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "archiver.replica", "serve", "--port", str(port),
                               "--articles", str(articles_per_language), "--slow-seconds", "0.5"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seeds = [f"http://127.0.0.1:{port}/news/", f"http://127.0.0.2:{port}/news/"]
    for _ in range(300):
        try:
            urllib.request.urlopen(seeds[0], timeout=30).read()
            urllib.request.urlopen(seeds[1], timeout=30).read()
            return server, seeds
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the replica did not start")


def crawl(seeds, db: Path, extra: list[str], one_core: bool = False,
          replica: psutil.Process | None = None) -> dict:
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "start_urls=" + ",".join(seeds),
               "-s", f"ARCHIVE_DB={db}", "-s", f"WARC_DIR={db.with_suffix('')}-warc",
               "-s", "EXTENSIONS=" + json.dumps({**project_settings.EXTENSIONS, "timeline.ResponseTimeline": 0})]
    for setting in FAST + extra:
        command += ["-s", setting]
    result = run_measured(command, one_core=one_core, timeline=db.with_suffix(".timeline.json"), replica=replica)
    with sqlite3.connect(db) as conn:
        run = conn.execute("select requests, articles_new, articles_unchanged, id from crawl_runs "
                           "order by id desc limit 1").fetchone()
        # Page requisites (archiver.capture.requisites): the run's requests for URLs that are no page of the crawl
        # state and no robots.txt (media downloads are off here).
        requisites = conn.execute(
            "select count(*) from captures where run_id = ? and record_type = 'request' and url not like "
            "'%/robots.txt' and url not in (select url from pages)", [run[3]]).fetchone()[0]
        result.update(requests=run[0] - requisites, requisite_requests=requisites,
                      articles=conn.execute("select count(*) from articles").fetchone()[0],
                      pages=conn.execute("select count(*) from pages where state != 'seen'").fetchone()[0])
    result["db_bytes"] = sum(Path(f"{db}{suffix}").stat().st_size for suffix in ("", "-wal")
                             if Path(f"{db}{suffix}").exists())
    return result


def fastest(runs: list[dict]) -> dict:
    """The fastest of repeated runs (the least disturbed by the rest of the machine, as timeit
    reports), with the highest memory peaks seen over all of them."""
    best = dict(min(runs, key=lambda run: run["seconds"]))
    for key in ("peak_rss_main", "peak_rss_all", "peak_pss_all"):
        if key in best:
            best[key] = max(run[key] for run in runs)
    return best


def discard(db: Path) -> None:
    """A repeated run's archive and WARC files, once measured (they are big at 20,000 articles)."""
    for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}.lock")):
        path.unlink(missing_ok=True)
    shutil.rmtree(f"{db.with_suffix('')}-warc", ignore_errors=True)


def fetched_urls(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [url for (url,) in conn.execute("select url from pages where http_status = 200")]


def bare_scrapy(seeds, urls_file: Path) -> dict:
    command = [sys.executable, str(ROOT / "benchmarks" / "bare_spider.py"), "--concurrency", str(CONCURRENCY),
               urls_file.as_posix(), *seeds]
    result = run_measured(command, one_core=True, timeline=urls_file.with_suffix(".timeline.json"))
    result["pages"] = int(result["stdout"].strip().splitlines()[-1])
    return result


def fetch_pages(urls: list[str]) -> list[str]:
    return [urllib.request.urlopen(url, timeout=30).read().decode("utf-8", "replace") for url in urls]


def extraction_alone(pages: list[str]) -> dict:
    """One pass of trafilatura over the same pages, in this process (fetching is not timed)."""
    import trafilatura

    started = time.monotonic()
    for html in pages:
        trafilatura.extract(html)
    return {"seconds": time.monotonic() - started, "pages": len(pages)}


def warm_up(seeds, db: Path) -> tuple[list[str], list[str]]:
    """An all-cores crawl that is not measured, then the pages it fetched, fetched again: their URLs (for bare
    Scrapy) and their HTML (for trafilatura alone).

    The replica renders and compresses a page the first time it is asked for it and keeps it (1.9 ms of its
    CPU a page, then 0.4 ms): without this crawl the first measured one alone met a cold replica, and was
    the slowest one-core run of most earlier rounds (benchmarks/NOTES.md)."""
    crawl(seeds, db, ["EXTRACTION_PROCESSES=auto"])
    urls = fetched_urls(db)
    discard(db)
    return urls, fetch_pages(urls)


def bench(size: int, workdir: Path, repeat: int) -> dict:
    server, seeds = serve_replica(size // 2)
    try:
        # Each round takes every measure once (the crawl on one core, on all cores, then the two bounds over
        # the pages the warm-up crawl fetched): a slow phase of the machine hits all four alike.
        ones, everys, bares, alones = [], [], [], []
        urls_file = workdir / f"urls-{size}.txt"
        urls, pages = warm_up(seeds, workdir / f"warm-{size}.db")
        urls_file.write_text("\n".join(urls))
        replica = psutil.Process(server.pid)
        for n in range(repeat):
            ones.append(crawl(seeds, workdir / f"one-{size}-{n}.db", ["EXTRACTION_PROCESSES=0"], one_core=True,
                              replica=replica))
            discard(workdir / f"one-{size}-{n}.db")
            db = workdir / f"all-{size}-{n}.db"
            everys.append(crawl(seeds, db, ["EXTRACTION_PROCESSES=auto"], replica=replica))
            if n < repeat - 1:
                discard(db)
            bares.append(bare_scrapy(seeds, urls_file))
            alones.append(extraction_alone(pages))
        one, every, bare, alone = fastest(ones), fastest(everys), fastest(bares), fastest(alones)
        dbn = workdir / f"all-{size}-{repeat - 1}.db"
        again = crawl(seeds, dbn, ["EXTRACTION_PROCESSES=auto"])
        dressed = crawl(seeds, workdir / f"requisites-{size}.db", REQUISITES)
        discard(workdir / f"requisites-{size}.db")
        additions = recrawl_after_additions(size, workdir)
    finally:
        server.kill()
        server.wait()
    rate = lambda result: result["pages"] / result["seconds"]  # noqa: E731
    slower_bound = min(rate(bare), rate(alone))
    # The same two ratios from the median run of each measure: one fast run cannot decide them.
    median = lambda runs: statistics.median(map(rate, runs))  # noqa: E731
    median_one = median(ones)
    # And from each round's own measures, taken minutes apart at most: the drift of the machine between
    # rounds cancels out of these ratios.
    round_shares = [rate(o) / min(rate(b), rate(a)) for o, b, a in zip(ones, bares, alones)]
    round_speedups = [rate(e) / rate(o) for o, e in zip(ones, everys)]
    # The same without each crawl's start and end (see measure.phases()): the per-page work alone.
    steady_shares = [steady_rate(o) / min(steady_rate(b), rate(a)) for o, b, a in zip(ones, bares, alones)]
    steady_speedups = [steady_rate(e) / steady_rate(o) for o, e in zip(ones, everys)]
    median_of = lambda runs, key: statistics.median(run[key] for run in runs)  # noqa: E731
    # What the cores did: CPU a page (the crawl's processes; the replica's, which shares the cores with the
    # all-cores crawl but not with the one-core crawl, pinned away from it), how many cores were busy, and
    # the speed-up the all-cores crawl would reach with every core busy at its measured CPU a page.
    cpu_ms = lambda runs, key: statistics.median(1000 * run[key] / run["pages"] for run in runs)  # noqa: E731
    cores = available_cores()  # the cores `EXTRACTION_PROCESSES=auto` counts
    busy = statistics.median((run["cpu_seconds"] + run["replica_cpu_seconds"]) / run["seconds"] for run in everys)
    all_cores_cpu_ms = cpu_ms(everys, "cpu_seconds") + cpu_ms(everys, "replica_cpu_seconds")
    # The machine's view of the all-cores crawl (every process, the replica and the kernel's work included):
    # the cores it kept busy, and the speed-up each round would reach had every core been busy from the end
    # of the framework's own start to the crawl's exit (see speedup_if_busy_after_start()).
    cores_busy_machine = [run["machine_busy_seconds"] / run["seconds"] for run in everys
                          if run["machine_busy_seconds"] is not None]
    busy_bounds = [bound for bound in (speedup_if_busy_after_start(o, e, b, cores)
                                       for o, e, b in zip(ones, everys, bares)) if bound is not None]
    return {
        "articles": size,
        "bare_scrapy_pages_per_s": round(rate(bare), 1),
        "trafilatura_pages_per_s": round(rate(alone), 1),
        "pipeline_1core_pages_per_s": round(rate(one), 1),
        "pipeline_1core_share_of_slower_bound": round(rate(one) / slower_bound, 2),
        "pipeline_all_cores_pages_per_s": round(rate(every), 1),
        "all_cores_speedup": round(rate(every) / rate(one), 2),
        "pipeline_1core_share_of_slower_bound_median": round(median_one / min(median(bares), median(alones)), 2),
        "all_cores_speedup_median": round(median(everys) / median_one, 2),
        "pipeline_1core_share_of_slower_bound_per_round_median": round(statistics.median(round_shares), 2),
        "all_cores_speedup_per_round_median": round(statistics.median(round_speedups), 2),
        "steady_1core_share_of_slower_bound_per_round_median": round(statistics.median(steady_shares), 2),
        "steady_all_cores_speedup_per_round_median": round(statistics.median(steady_speedups), 2),
        "start_seconds_median_1core": round(median_of(ones, "start_seconds"), 2),
        "start_seconds_median_all_cores": round(median_of(everys, "start_seconds"), 2),
        "start_seconds_median_bare": round(median_of(bares, "start_seconds"), 2),
        "end_seconds_median_1core": round(median_of(ones, "end_seconds"), 2),
        "end_seconds_median_all_cores": round(median_of(everys, "end_seconds"), 2),
        "cpu_ms_per_page_1core": round(cpu_ms(ones, "cpu_seconds"), 2),
        "cpu_ms_per_page_all_cores": round(cpu_ms(everys, "cpu_seconds"), 2),
        "replica_cpu_ms_per_page_all_cores": round(cpu_ms(everys, "replica_cpu_seconds"), 2),
        "cores_busy_all_cores_median": round(busy, 2),
        "all_cores_speedup_if_every_core_busy": round(cores * 1000 / all_cores_cpu_ms / median_one, 2),
        "cores_busy_machine_all_cores_median":
            round(statistics.median(cores_busy_machine), 2) if cores_busy_machine else None,
        "all_cores_speedup_if_every_core_busy_after_framework_start_per_round_median":
            round(statistics.median(busy_bounds), 2) if busy_bounds else None,
        "requests_per_article": round((one["requests"] - 2) / one["articles"], 3),  # robots.txt, requisites apart
        "pipeline_all_cores_with_requisites_pages_per_s": round(rate(dressed), 1),
        "requisite_requests_per_article": round(dressed["requisite_requests"] / dressed["articles"], 3),
        "articles_archived": one["articles"],
        "peak_rss_mb_1core": round(one["peak_rss_main"] / 2**20),
        "peak_rss_mb_all_cores_main": round(every["peak_rss_main"] / 2**20),
        "peak_rss_mb_all_cores_with_workers": round(every["peak_rss_all"] / 2**20),
        "peak_pss_mb_all_cores_with_workers": round(every["peak_pss_all"] / 2**20),
        "db_mb": round(one["db_bytes"] / 2**20, 1),
        "runs_each": repeat,
        "recrawl_requests_share": round(again["requests"] / every["requests"], 4),
        "recrawl_20_new_archived": f"{additions['archived']}/{additions['added']}",
        "recrawl_20_new_requests_share": additions["share_of_first"],
        "seconds": {"bare": round(bare["seconds"], 1), "extraction": round(alone["seconds"], 1),
                    "pipeline_1core": round(one["seconds"], 1), "pipeline_all": round(every["seconds"], 1),
                    "recrawl": round(again["seconds"], 1),
                    "pipeline_1core_every_run": [round(run["seconds"], 1) for run in ones],
                    "pipeline_all_every_run": [round(run["seconds"], 1) for run in everys],
                    "bare_every_run": [round(run["seconds"], 1) for run in bares],
                    "extraction_every_run": [round(run["seconds"], 1) for run in alones]},
        "per_round": {"pipeline_1core_share_of_slower_bound": [round(share, 2) for share in round_shares],
                      "all_cores_speedup": [round(speedup, 2) for speedup in round_speedups],
                      "steady_1core_share_of_slower_bound": [round(share, 2) for share in steady_shares],
                      "steady_all_cores_speedup": [round(speedup, 2) for speedup in steady_speedups],
                      "all_cores_speedup_if_every_core_busy_after_framework_start":
                          [round(bound, 2) for bound in busy_bounds]},
        "phases": {name: [{"pages": run["pages"], "seconds": round(run["seconds"], 2),
                           "start_seconds": round(run["start_seconds"], 2), "end_seconds": round(run["end_seconds"], 2),
                           "steady_pages_per_s": round(steady_rate(run), 1),
                           "cpu_seconds": round(run["cpu_seconds"], 2),
                           "replica_cpu_seconds": round(run["replica_cpu_seconds"], 2),
                           "machine_busy_seconds": None if run["machine_busy_seconds"] is None
                           else round(run["machine_busy_seconds"], 2)} for run in runs]
                   for name, runs in (("pipeline_1core", ones), ("pipeline_all", everys), ("bare", bares))},
    }


def speedup_if_busy_after_start(one: dict, every: dict, bare: dict, cores: int) -> float | None:
    """The speed-up of a round's all-cores crawl over its one-core crawl, had every core been busy from the
    end of the framework's own start to the all-cores crawl's exit, doing the work the machine did meanwhile.

    Until bare Scrapy's first response (its imports, its engine: measured in the same round) one process
    works alone; the machine's busy time after it (``machine_busy_seconds``, less one core through that start)
    is spread over every core. What the all-cores crawl measured beyond that is time a core stood idle.
    ``None`` without ``/proc/stat``."""
    busy = every["machine_busy_seconds"]
    if busy is None:
        return None
    start = min(bare["start_seconds"], every["seconds"])
    shortest = start + max(busy - start, 0.0) / cores
    return (every["pages"] / shortest) / (one["pages"] / one["seconds"])


def recrawl_after_additions(size: int, workdir: Path) -> dict:
    """20 new articles at the top of the listings: are all 20 archived by the next incremental run?"""
    from archiver.replica import ReplicaSite, serve_replica as serve_in_process

    site = ReplicaSite(size // 2, seed=1)
    sections = ["news_odkb", "news_secretariat", "parliamentary_assembly", "military_cooperation"]
    with serve_in_process(site, port=0, slow_seconds=0.5, huge_page_bytes=200_000) as server:
        db = workdir / f"additions-{size}.db"
        first = crawl(server.seeds, db, ["EXTRACTION_PROCESSES=auto"])
        keys = [site.add_article(language, sections[i % 4]) for i, language in enumerate(["en", "ru"] * 10)]
        second = crawl(server.seeds, db, ["EXTRACTION_PROCESSES=auto"])
        urls = [server.base_urls[key.split(":", 1)[0]] + key.split(":", 1)[1] for key in keys]
    with sqlite3.connect(db) as conn:
        archived = sum(conn.execute("select count(*) from articles where url = ?", [url]).fetchone()[0]
                       for url in urls)
    return {"added": len(keys), "archived": archived, "requests": second["requests"],
            "share_of_first": round(second["requests"] / first["requests"], 4)}


def versions() -> dict:
    from importlib.metadata import version

    return {name: version(name) for name in ("scrapy", "trafilatura", "lxml", "sqlite-utils", "twisted")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000], help="articles (both languages)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each measure; the fastest is reported (default: 3)")
    parser.add_argument("--output", type=Path, help="JSON file (default: benchmarks/results/<time>.json)")
    arguments = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for size in arguments.sizes:
            results.append(bench(size, Path(workdir), max(1, arguments.repeat)))
            print(f"measured {size} articles", file=sys.stderr)
    report = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "processor": platform.processor()},
        "versions": versions(),
        "note": "AutoThrottle and download delays off for the benchmark only; replica served on loopback",
        "results": results,
    }
    output = arguments.output or ROOT / "benchmarks" / "results" / f"{report['when'].replace(':', '')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    print(table(results))
    print(f"\nJSON: {output}")
    return 0


def table(results: list[dict]) -> str:
    keys = [key for key in results[0] if key not in ("seconds", "per_round", "phases")]
    width = max(map(len, keys))
    lines = [f"{'':{width}}  " + "  ".join(f"{r['articles']:>10}" for r in results)]
    for key in keys[1:]:
        lines.append(f"{key:{width}}  " + "  ".join(f"{'-' if r[key] is None else r[key]:>10}" for r in results))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
