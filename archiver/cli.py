"""The ``archiver`` command: helpers around the ``scrapy crawl news`` spider.

    archiver demo [--db data/demo.db]   serve the bundled replica site on loopback and crawl it
    archiver explore [--db PATH]        refresh search, translations and Datasette metadata now
    archiver seed --redis-url URL [URL...]          cluster: push the seeds into the shared queue
    archiver ingest --redis-url URL --db PATH       cluster: the one writer (Redis stream -> SQLite)
    archiver verify [--db PATH]                     check every WARC record, the indexes and media files
    archiver show ARTICLE_ID|URL [--db PATH]        print the raw capture an article was extracted from
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

# Settings for crawling our own loopback replica: no politeness delays needed.
FAST_LOCAL_SETTINGS = ["AUTOTHROTTLE_ENABLED=0", "DOWNLOAD_DELAY=0", "RETRY_BACKOFF_BASE=0.2",
                       "DOWNLOAD_TIMEOUT=2", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]


def crawl_command(seeds: list[str], db: str | Path, settings: list[str] = (), args: list[str] = ()) -> list[str]:
    """The ``scrapy crawl news`` command line for ``seeds`` into ``db``."""
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "start_urls=" + ",".join(seeds),
               "-s", f"ARCHIVE_DB={db}"]
    for setting in settings:
        command += ["-s", setting]
    return command + list(args)


def project_root() -> Path:
    """The directory holding ``scrapy.cfg`` (Scrapy finds the project from there)."""
    return Path(__file__).resolve().parent.parent


def demo(arguments) -> int:
    from .archive.readonly import NEWEST_ARTICLES_QUERY, ReadOnlyArchive
    from .replica import ReplicaSite, serve_replica

    db = Path(arguments.db).resolve()
    if db.exists() and not arguments.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    site = ReplicaSite(articles_per_language=arguments.articles)
    with serve_replica(site, port=arguments.port) as server:
        print(f"Replica serving {', '.join(server.seeds)}")
        command = crawl_command(server.seeds, db, FAST_LOCAL_SETTINGS + [f"LOG_LEVEL={arguments.log_level}"])
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "archiver.settings"}
        result = subprocess.run(command, cwd=project_root(), env=env)
        expected = len(site.ground_truth(server.base_urls))
    archive = ReadOnlyArchive(db)
    try:
        stored, by_language = archive.count_articles(), archive.articles_by_language()
    finally:
        archive.close()
    print(f"Crawl exited with {result.returncode}; {stored} articles archived "
          f"(replica has {expected}) in {db}: {dict(by_language)}")
    print(f"Look inside: sqlite3 {db} '{NEWEST_ARTICLES_QUERY}'")
    return result.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="archiver", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="serve the bundled replica site and crawl it")
    demo_parser.add_argument("--db", default="data/demo.db", help="archive to write (default: data/demo.db)")
    demo_parser.add_argument("--articles", type=int, default=60, help="articles per language in the replica")
    demo_parser.add_argument("--port", type=int, default=0, help="replica port (default: a free one)")
    demo_parser.add_argument("--keep", action="store_true", help="keep an existing demo archive (re-crawl it)")
    demo_parser.add_argument("--log-level", default="INFO")
    demo_parser.set_defaults(run=demo)
    from .cluster.addon import add_commands as add_cluster_commands  # archiver seed, archiver ingest

    add_cluster_commands(commands)
    from .archive.explore import add_commands as add_explore_commands  # archiver explore

    add_explore_commands(commands)
    from .capture.verify import add_commands as add_verify_commands  # archiver verify, archiver show

    add_verify_commands(commands)
    arguments = parser.parse_args(argv)
    return arguments.run(arguments)


if __name__ == "__main__":
    sys.exit(main())
