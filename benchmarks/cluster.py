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

Writes JSON to benchmarks/results/cluster-<time>.json.
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


def run(workers: int, servers, redis_port: int, db_number: int, delay: float, work: Path) -> dict:
    import redis

    url = f"redis://127.0.0.1:{redis_port}/{db_number}"
    redis.Redis(port=redis_port, db=db_number).flushdb()
    seeds = [seed for server in servers for seed in server.seeds]
    directory = work / f"workers-{workers}"
    directory.mkdir()
    db = directory / "archive.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "SCRAPY_SETTINGS_MODULE": "archiver.settings"}
    env.pop("REDIS_URL", None)
    cli = [sys.executable, "-m", "archiver.cli"]
    subprocess.run(cli + ["seed", "--redis-url", url, *seeds], cwd=project_root(), env=env, check=True,
                   capture_output=True)
    settings = [f"REDIS_URL={url}", f"DOWNLOAD_DELAY={delay}", f"CLUSTER_HOST_DELAY={delay}",
                "RANDOMIZE_DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=0", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                "MAX_IDLE_TIME_BEFORE_CLOSE=3", "CLUSTER_HEARTBEAT_SECONDS=5", "DOWNLOAD_TIMEOUT=10",
                "LOG_LEVEL=INFO", "DEGRADED_AFTER_DAYS_WITHOUT_NEW=-1"]
    hits_before = [len(server.hits) for server in servers]
    started = time.monotonic()
    writer = subprocess.Popen(cli + ["ingest", "--redis-url", url, "--db", str(db), "--idle-exit", "2"],
                              cwd=project_root(), env=env, stdout=open(directory / "writer.log", "w"),
                              stderr=subprocess.STDOUT)
    processes = [subprocess.Popen(crawl_command(seeds, directory / "worker.db", settings), cwd=project_root(),
                                  env=env, stdout=open(directory / f"worker{n}.log", "w"), stderr=subprocess.STDOUT)
                 for n in range(workers)]
    codes = [process.wait() for process in processes] + [writer.wait()]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=6, help="hosts, two per replica (default: %(default)s)")
    parser.add_argument("--articles", type=int, default=60, help="articles per language of each replica")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to compare (default: %(default)s)")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds between two requests to a host "
                        "(production: 1; default: %(default)s)")
    arguments = parser.parse_args()
    if shutil.which("redis-server") is None:
        print("benchmarks/cluster.py: needs redis-server", file=sys.stderr)
        return 2
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


if __name__ == "__main__":
    sys.exit(main())
