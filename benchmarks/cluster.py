"""Cluster scaling: 1, 2, 4 workers crawling several sites, each site paced as in production.

    python benchmarks/cluster.py                                  # 6 sites, 1/2/4 workers, a request a second per host
    python benchmarks/cluster.py --sites 2 --workers 1,2 --articles 34 --delay 0.2    # a small check

Sites are replicas served on loopback, two hosts each (English and Russian), on 127.0.0.1, 127.0.0.2, ...: every
host is a site of its own to Scrapy (its own download slot) and to the cluster's pacing (one request every
``--delay`` seconds per host from all workers together, ``CLUSTER_HOST_DELAY``). For each worker count: a fresh
Redis database and archive, ``archiver seed``, the workers and ``archiver ingest``, with the project's cluster
defaults (``CONCURRENT_REQUESTS_PER_DOMAIN=1``, ``DOWNLOAD_DELAY`` = the delay, AutoThrottle off so that the pace is
the delay's). Measured: the wall time from the first worker's start to the writer's end, articles archived per
second, and for every host the replica's own record of arrival times: the smallest gap between two requests and
the most requests in any 10-second window (never above 10 / delay, plus one for the window's edges). Media
downloads and page requisites stay on (they are requests to the same hosts, paced alike).

With ``--rounds``: the cost of an incremental round at scale instead. One replica (``--articles`` per language,
2,500 for 5,000 articles), no pacing (``CLUSTER_HOST_DELAY=0``, as bench.py's crawls), media and page requisites
off (requests count pages, as benchmarks/revisits.py's), the clock stopped with ``ARCHIVER_NOW`` (day 0 the day
after the replica's newest article, day 1 for the second round): a first round, then ``archiver seed --reset`` and
a second round of the unchanged site; its requests as a share of the first's (target: at most 5 %).

    python benchmarks/cluster.py --rounds --articles 2500 --workers 2

Writes JSON to benchmarks/results/cluster-<time>.json (``cluster-rounds-<time>.json`` with ``--rounds``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from archiver.cli import crawl_command, project_root
from archiver.replica import ReplicaSite, serve_replica

WINDOW = 10.0  # seconds: the per-host rate is the most requests in a window this long


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(directory: Path) -> tuple[subprocess.Popen, int]:
    import redis

    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(directory)],
                               stdout=open(directory / "redis.log", "w"), stderr=subprocess.STDOUT)
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return process, port
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def serve_sites(count: int, articles: int, stack):
    """``count`` sites (an even number: two hosts per replica) on 127.0.0.1..; each records arrival times."""
    servers = []
    for n in range((count + 1) // 2):
        site = ReplicaSite(articles_per_language=articles, seed=100 + n)
        hosts = (f"127.0.0.{2 * n + 1}", f"127.0.0.{2 * n + 2}")
        server = stack.enter_context(serve_replica(site, port=0, hosts=hosts, external_host=f"127.0.1.{n + 1}",
                                                   slow_seconds=0))
        record = server.record

        def timed(hit, record=record):  # the hit dict is filled in later: the time is set on arrival
            hit["t"] = time.monotonic()
            record(hit)

        server.record = timed
        servers.append(server)
    return servers


def per_host(hits: list[dict]) -> dict[str, dict]:
    by_host: dict[str, list[float]] = {}
    for hit in hits:
        by_host.setdefault(hit["host"].rsplit(":", 1)[0], []).append(hit["t"])
    report = {}
    for host, times in sorted(by_host.items()):
        times.sort()
        gaps = [b - a for a, b in zip(times, times[1:])]
        most, start = 0, 0
        for end in range(len(times)):
            while times[end] - times[start] >= WINDOW:
                start += 1
            most = max(most, end - start + 1)
        report[host] = {"requests": len(times), "min_gap_s": round(min(gaps), 3) if gaps else None,
                        "max_per_window": most, "max_rate_per_s": round(most / WINDOW, 3)}
    return report


CLI = [sys.executable, "-m", "archiver.cli"]


def environment(**extra) -> dict:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "SCRAPY_SETTINGS_MODULE": "archiver.settings", **extra}
    env.pop("REDIS_URL", None)
    return env


def cluster_round(url: str, seeds: list[str], db: Path, directory: Path, workers: int, settings: list[str],
                  env: dict) -> list[int]:
    """The writer and the workers of a round (seeded already), until all have exited; their exit codes."""
    writer = subprocess.Popen(CLI + ["ingest", "--redis-url", url, "--db", str(db), "--idle-exit", "2"],
                              cwd=project_root(), env=env, stdout=open(directory / "writer.log", "w"),
                              stderr=subprocess.STDOUT)
    processes = [subprocess.Popen(crawl_command(seeds, directory / "worker.db", settings), cwd=project_root(),
                                  env=env, stdout=open(directory / f"worker{n}.log", "w"), stderr=subprocess.STDOUT)
                 for n in range(workers)]
    return [process.wait() for process in processes] + [writer.wait()]


def run(workers: int, servers, redis_port: int, db_number: int, delay: float, work: Path) -> dict:
    import redis

    url = f"redis://127.0.0.1:{redis_port}/{db_number}"
    redis.Redis(port=redis_port, db=db_number).flushdb()
    seeds = [seed for server in servers for seed in server.seeds]
    directory = work / f"workers-{workers}"
    directory.mkdir()
    db = directory / "archive.db"
    env = environment()
    subprocess.run(CLI + ["seed", "--redis-url", url, *seeds], cwd=project_root(), env=env, check=True,
                   capture_output=True)
    settings = [f"REDIS_URL={url}", f"DOWNLOAD_DELAY={delay}", f"CLUSTER_HOST_DELAY={delay}",
                "RANDOMIZE_DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=0", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                "MAX_IDLE_TIME_BEFORE_CLOSE=3", "CLUSTER_HEARTBEAT_SECONDS=5", "DOWNLOAD_TIMEOUT=10",
                "LOG_LEVEL=INFO", "DEGRADED_AFTER_DAYS_WITHOUT_NEW=-1"]
    hits_before = [len(server.hits) for server in servers]
    started = time.monotonic()
    codes = cluster_round(url, seeds, db, directory, workers, settings, env)
    seconds = time.monotonic() - started
    hits = [hit for server, before in zip(servers, hits_before) for hit in server.hits[before:]]
    import sqlite3

    with sqlite3.connect(db) as conn:
        articles = conn.execute("select count(*) from articles").fetchone()[0]
    hosts = per_host(hits)
    limit = WINDOW / delay + 1
    return {"workers": workers, "exit_codes": codes, "seconds": round(seconds, 1), "articles": articles,
            "articles_per_s": round(articles / seconds, 2), "requests": len(hits),
            "requests_per_s": round(len(hits) / seconds, 2),
            "max_host_rate_per_s": max(h["max_rate_per_s"] for h in hosts.values()),
            "politeness_kept": all(h["max_per_window"] <= limit for h in hosts.values()), "hosts": hosts}


ASSETS = (".jpg", ".jpeg", ".png", ".pdf", ".css", ".js", ".svg", ".woff", ".woff2", ".ico", ".gif")
ROUND_SETTINGS = ["CLUSTER_HOST_DELAY=0", "DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=0", "CONCURRENT_REQUESTS=32",
                  "CONCURRENT_REQUESTS_PER_DOMAIN=8", "MEDIA_ENABLED=0", "REQUISITES_ENABLED=0",
                  "MAX_IDLE_TIME_BEFORE_CLOSE=3", "CLUSTER_HEARTBEAT_SECONDS=10", "DOWNLOAD_TIMEOUT=10",
                  "LOG_LEVEL=INFO", "DEGRADED_AFTER_DAYS_WITHOUT_NEW=-1"]


def rounds(articles: int, workers: int, redis_port: int, work: Path) -> dict:
    """A first round and an incremental round of the unchanged site, a day apart (see the module's docstring)."""
    import sqlite3
    from datetime import timedelta

    from archiver.replica.model import NEWEST_DATE

    day0 = datetime.combine(NEWEST_DATE + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
    url = f"redis://127.0.0.1:{redis_port}/0"
    site = ReplicaSite(articles_per_language=articles, seed=1)
    db = work / "archive.db"
    results = []
    with serve_replica(site, port=0, slow_seconds=0) as server:
        truth = {article["url"] for article in site.ground_truth(server.base_urls)}
        for day in (0, 1):
            env = environment(ARCHIVER_NOW=(day0 + timedelta(days=day)).isoformat())
            subprocess.run(CLI + ["seed", "--redis-url", url, *(["--reset"] if day else []), *server.seeds],
                           cwd=project_root(), env=env, check=True, capture_output=True)
            directory = work / f"round-{day + 1}"
            directory.mkdir()
            before, started = len(server.hits), time.monotonic()
            codes = cluster_round(url, server.seeds, db, directory, workers,
                                  ROUND_SETTINGS + [f"REDIS_URL={url}"], env)
            seconds = time.monotonic() - started
            hits = server.hits[before:]
            pages = [hit for hit in hits if not hit["path"].lower().split("?")[0].endswith(ASSETS)]
            with sqlite3.connect(db) as conn:
                row = conn.execute("select mode, requests, articles_new, articles_updated, articles_unchanged"
                                   " from crawl_runs order by id desc limit 1").fetchone()
                archived = conn.execute("select count(*) from articles").fetchone()[0]
            results.append({"round": day + 1, "day": day, "exit_codes": codes, "seconds": round(seconds, 1),
                            "mode": row[0], "requests": len(hits), "page_requests": len(pages),
                            "not_modified": sum(1 for hit in pages if hit["status"] == 304),
                            "article_requests": sum(1 for hit in pages if f"http://{hit['host']}{hit['path']}"
                                                    in truth),
                            "crawl_runs_requests": row[1], "new": row[2], "updated": row[3], "unchanged": row[4],
                            "articles_archived": archived})
            print(f"round {day + 1}: {results[-1]}", flush=True)
    second = results[1]
    second["share_of_first"] = round(second["page_requests"] / results[0]["page_requests"], 4)
    return {"articles": 2 * articles, "workers": workers, "day0": day0.isoformat(), "settings": ROUND_SETTINGS,
            "rounds": results, "second_round_share": second["share_of_first"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=6, help="hosts, two per replica (default: %(default)s)")
    parser.add_argument("--articles", type=int, default=60, help="articles per language of each replica")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to compare (default: %(default)s)")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds between two requests to a host "
                        "(production: 1; default: %(default)s)")
    parser.add_argument("--rounds", action="store_true", help="measure an incremental round instead: a first and "
                        "a second round of one unchanged replica of --articles per language, --workers workers")
    arguments = parser.parse_args()
    if shutil.which("redis-server") is None:
        print("benchmarks/cluster.py: needs redis-server", file=sys.stderr)
        return 2
    if arguments.rounds:
        return main_rounds(arguments)
    from contextlib import ExitStack

    counts = [int(n) for n in arguments.workers.split(",")]
    results = []
    with tempfile.TemporaryDirectory() as temporary, ExitStack() as stack:
        work = Path(temporary)
        redis_process, port = start_redis(work)
        try:
            for index, workers in enumerate(counts):
                servers = serve_sites(arguments.sites, arguments.articles, stack)  # fresh sites: fresh counts
                result = run(workers, servers, port, index, arguments.delay, work)
                results.append(result)
                print(f"{workers} workers: {result['seconds']}s, {result['articles']} articles "
                      f"({result['articles_per_s']}/s), {result['requests']} requests; busiest host "
                      f"{result['max_host_rate_per_s']}/s (limit {1 / arguments.delay:g}/s): "
                      f"{'kept' if result['politeness_kept'] else 'EXCEEDED'}", flush=True)
        finally:
            redis_process.terminate()
            redis_process.wait()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%S%z")
    out = Path(project_root()) / "benchmarks" / "results" / f"cluster-{stamp}.json"
    out.write_text(json.dumps({"when": stamp, "cpus": os.cpu_count(), "sites": arguments.sites,
                               "articles_per_language": arguments.articles, "delay_s": arguments.delay,
                               "runs": results}, indent=2) + "\n")
    print(f"Wrote {out}")
    return 0 if all(r["politeness_kept"] and not any(r["exit_codes"]) for r in results) else 1


def main_rounds(arguments) -> int:
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        redis_process, port = start_redis(work)
        try:
            result = rounds(arguments.articles, int(arguments.workers.split(",")[-1]), port, work)
        finally:
            redis_process.terminate()
            redis_process.wait()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%S%z")
    out = Path(project_root()) / "benchmarks" / "results" / f"cluster-rounds-{stamp}.json"
    out.write_text(json.dumps({"when": stamp, "cpus": os.cpu_count(), **result}, indent=2) + "\n")
    print(f"Second round: {result['rounds'][1]['page_requests']} page requests, {result['second_round_share']:.2%} "
          f"of the first round's {result['rounds'][0]['page_requests']}; wrote {out}")
    codes = [code for entry in result["rounds"] for code in entry["exit_codes"]]
    return 0 if not any(codes) and result["second_round_share"] <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
