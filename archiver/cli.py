"""The archiver command: helpers around the `scrapy crawl news` spider.

Every subcommand's parser is defined here. The work is done where it belongs (the demo below, the cluster, the
archive's analysis layer, the capture checks) and imported only when a command runs, so that `archiver --help`
loads neither Scrapy nor Redis nor the WARC reader.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from pathlib import Path

# Settings for crawling our own loopback replica: no politeness delays needed.
FAST_LOCAL_SETTINGS = ["AUTOTHROTTLE_ENABLED=0", "DOWNLOAD_DELAY=0", "RETRY_BACKOFF_BASE=0.2",
                       "DOWNLOAD_TIMEOUT=2", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]

DESCRIPTION = """\
Helpers around the news crawler. The crawl itself is "scrapy crawl news" (its
options: "scrapy crawl -h"); these commands try it on the bundled replica
site, run a crawl on many machines (cluster mode), and check or explore the
archive. "archiver COMMAND --help" describes a command and its options."""

EXAMPLES = """\
examples:
  scrapy crawl news     the crawl itself, into data/archive.db
  archiver demo         a crawl of the bundled replica, into data/demo.db
  archiver verify --db data/archive.db
  archiver show 42 --db data/archive.db"""


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

    from . import demo_files

    db = Path(arguments.db).resolve()
    port = arguments.port or demo_files.previous_port(db)  # the same URLs as last time: --keep is incremental
    if not arguments.keep:
        demo_files.remove(db)
    site = ReplicaSite(articles_per_language=arguments.articles)
    server, fell_back = demo_files.serve(site, port, serve_replica)
    with server:
        demo_files.remember_port(db, server.port)
        if fell_back:
            print(f"Port {port} is taken: the replica serves on {server.port}, so every URL is new to the archive")
        print(f"Replica serving {', '.join(server.seeds)}")
        settings = FAST_LOCAL_SETTINGS + demo_files.capture_settings(db) + [f"LOG_LEVEL={arguments.log_level}"]
        command = crawl_command(server.seeds, db, settings)
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
    print(f"Check its captures: archiver verify --db {db}")
    return result.returncode


# -- the parsers -------------------------------------------------------------------------------------------------
# Help texts are plain text for a terminal. Each option states its default, as "(default: ...)", in words where
# the real default is decided at run time (a setting, an environment variable).


def lazy(target: str):
    """The command function `module:name` (relative to this package), imported when the command runs."""
    module, name = target.split(":")

    def run(arguments) -> int:
        return getattr(importlib.import_module(module, __package__), name)(arguments)
    return run


def add_command(commands, name: str, summary: str, description: str, examples: str, run) -> argparse.ArgumentParser:
    """A subcommand: `summary` in the command list, `description` and `examples` in its own --help."""
    parser = commands.add_parser(name, help=summary, description=description, epilog="examples:\n" + examples,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(run=run)
    return parser


def add_demo(commands) -> None:
    parser = add_command(commands, "demo", "serve the bundled replica site and crawl it", """\
Serve the bundled replica of the news site (English and Russian) on loopback
and crawl it into an archive with "scrapy crawl news": a complete run that
needs no network. Prints how many articles were archived, and how many the
replica has. The demo's WARC and media files and its replica's port are kept
in a folder beside its archive (data/demo/ for data/demo.db); the replica is
served on the same port again (another if it is taken), so that a --keep run
is an incremental crawl of the same URLs.""", """\
  archiver demo
  archiver demo --keep        # crawl the same replica again: an incremental run
  archiver demo --db /tmp/demo.db --articles 40 --log-level WARNING""", demo)
    parser.add_argument("--db", default="data/demo.db", metavar="PATH",
                        help="archive to write, deleted first with its captures unless --keep (default: %(default)s)")
    parser.add_argument("--articles", type=int, default=60, metavar="N",
                        help="articles per language in the replica (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0,
                        help="replica port (default: the port of the demo's last run, else a free one)")
    parser.add_argument("--keep", action="store_true",
                        help="keep an existing demo archive and crawl into it again, incrementally (default: off)")
    parser.add_argument("--log-level", default="INFO", metavar="LEVEL",
                        help="the crawl's LOG_LEVEL setting (default: %(default)s)")


def add_seed(commands) -> None:
    parser = add_command(commands, "seed", "cluster: push the seeds into the shared Redis queue (once per round)", """\
Cluster mode: push the spider's start requests into the shared Redis queue,
once per crawl round. The workers ("scrapy crawl news" with a Redis URL) take
their requests from that queue; seeds already seen this round are skipped.""", """\
  archiver seed --redis-url redis://localhost:6379/0
  export REDIS_URL=redis://redis-host:6379/0
  archiver seed --reset              a new crawl round (no worker running)
  archiver seed https://en.odkb-csto.org/news/""",
                         lazy(".cluster.addon:seed_command"))
    parser.add_argument("urls", nargs="*", metavar="URL", help="seed URLs (default: the profile's start URLs)")
    parser.add_argument("--redis-url", default="", metavar="URL", help="the cluster's Redis (default: $REDIS_URL)")
    parser.add_argument("--profile", metavar="NAME", help="site profile (default: the SITE_PROFILE setting)")
    parser.add_argument("--reset", action="store_true",
                        help="start a new crawl round: first clear the queue, the dupefilter and the in-flight "
                             "requests; never while workers run (default: off)")


def add_ingest(commands) -> None:
    from .cluster.addon import INGEST_GROUP  # the addon module imports nothing beyond the standard library

    parser = add_command(commands, "ingest", "cluster: the one writer, from the Redis item stream into the archive",
                         """\
Cluster mode: the one writer. Reads the items the workers put into the Redis
stream and stores them in the SQLite archive, acknowledging each batch once
its transaction has committed. Ctrl-C or SIGTERM stop it after the batch at
hand; a writer that starts later stores what was read but not acknowledged.""", """\
  archiver ingest --redis-url redis://localhost:6379/0 --db data/archive.db
  export REDIS_URL=redis://redis-host:6379/0
  archiver ingest --db /srv/archive/csto.db --idle-exit 600""",
                         lazy(".cluster.ingest:ingest_command"))
    parser.add_argument("--redis-url", default="", metavar="URL", help="the cluster's Redis (default: $REDIS_URL)")
    parser.add_argument("--db", metavar="PATH", help="archive to write (default: the ARCHIVE_DB setting)")
    parser.add_argument("--idle-exit", type=float, default=None, metavar="SECONDS",
                        help="exit once the stream brought nothing for this long (default: run forever)")
    parser.add_argument("--batch-size", type=int, default=0, metavar="N",
                        help="items per transaction, 0 for the ARCHIVE_BATCH_SIZE setting (default: %(default)s)")
    parser.add_argument("--stream", metavar="KEY",
                        help="Redis stream to read (default: the CLUSTER_ITEMS_STREAM setting, news:archive)")
    parser.add_argument("--group", default=INGEST_GROUP, metavar="NAME",
                        help="Redis consumer group (default: %(default)s)")
    parser.add_argument("--consumer", default="writer", metavar="NAME",
                        help="this writer's name in the consumer group (default: %(default)s)")
    parser.add_argument("--log-level", default="INFO", metavar="LEVEL",
                        help="log level: DEBUG, INFO, WARNING, ERROR or CRITICAL (default: %(default)s)")


def add_explore(commands) -> None:
    parser = add_command(commands, "explore", "refresh the archive's search index, translations and Datasette "
                                              "metadata", """\
Refresh the archive's analysis layer now: the full-text search index and its
stems, the links between translations, and the Datasette metadata. Every
crawl run does this at its end; run it on an archive made by an older
archiver, then browse the archive with Datasette.""", """\
  archiver explore --db data/archive.db
  datasette data/""", lazy(".archive.explore:explore_command"))
    parser.add_argument("--db", metavar="PATH", help="the archive (default: $ARCHIVE_DB or data/archive.db)")


def verify_and_record(arguments) -> int:
    """``archiver verify``, its result recorded next to the archive for ``archiver status``."""
    from .archive.status import record_verify
    from .capture.verify import verify

    code = verify(arguments)
    record_verify(arguments.db, code, arguments.repair)
    return code


def add_verify(commands) -> None:
    parser = add_command(commands, "verify", "check every WARC record, index and media file", """\
Check the archive's captures: re-read every WARC record the archive lists and
check its digests; check that no WARC file holds a record the archive does
not list, that each captures row matches its record (URL, date, status,
digest), that the CDXJ index is sorted, lists every response and revisit and
each of its lines reads exactly one complete record of that URI, date, digest
and SURT key, that every article points at a captured response, and that every
media file matches its SHA-256 and its rows. Exit 0 if everything checks out,
1 with one line per problem.

With --repair, first repair what a crawl that did not finish left (killed,
or stopped by a full disk): truncate a torn WARC tail, index the whole
records no row lists, remove the rows of records that do not read back and
mark their articles to be fetched again by the next crawl; one line per
repair, then the check. Only on a stopped archive: exit 75 while a crawl
holds it. A crawl that starts after one that did not finish does the same
for the files that crawl wrote.""", """\
  archiver verify --db data/archive.db
  archiver verify --db data/archive.db --repair
  archiver verify --db /srv/archive/csto.db --warc-dir /mnt/warc""", verify_and_record)
    parser.add_argument("--db", default="data/archive.db", metavar="PATH", help="the archive (default: %(default)s)")
    parser.add_argument("--warc-dir", metavar="DIR", help="WARC directory (default: warc/ next to the archive, or in its own folder: data/demo/warc for data/demo.db)")
    parser.add_argument("--media-dir", metavar="DIR", help="media directory (default: media/ next to the archive)")
    parser.add_argument("--repair", action="store_true",
                        help="repair torn WARC tails, unindexed records and lost captures first (default: off)")


def add_wacz(commands) -> None:
    parser = add_command(commands, "wacz", "package the WARC files and page list as one WACZ file", """\
Package the archive's WARC files, an index of them and the list of archived
pages into one WACZ file (Web Archive Collection Zipped), which ReplayWeb.page
opens as it is. Needs the wacz package: pip install 'archiver[wacz]'. Exit 0
when written, 1 if the package failed, 2 when there is no archive or no WARC
file.""", """\
  archiver wacz --db data/archive.db -o csto.wacz
  wacz validate -f csto.wacz""", lazy(".capture.wacz:wacz_command"))
    parser.add_argument("--db", default="data/archive.db", metavar="PATH", help="the archive (default: %(default)s)")
    parser.add_argument("-o", "--output", metavar="FILE", help="the WACZ file (default: the archive's name, .wacz)")
    parser.add_argument("--warc-dir", metavar="DIR", help="WARC directory (default: warc/ next to the archive, or in its own folder: data/demo/warc for data/demo.db)")


def add_show(commands) -> None:
    parser = add_command(commands, "show", "print the raw capture (HTTP headers and body) of an article", """\
Print the raw capture an article was extracted from: its WARC location as
comment lines, then the HTTP headers and the body, decoded from its
Content-Encoding; with --raw, exactly the stored headers and body.""", """\
  archiver show 42 --db data/archive.db
  archiver show --raw https://en.odkb-csto.org/news/news_odkb/slug/ > c.http""",
                         lazy(".capture.verify:show"))
    parser.add_argument("article", metavar="ARTICLE", help="the article's id or URL")
    parser.add_argument("--db", default="data/archive.db", metavar="PATH", help="the archive (default: %(default)s)")
    parser.add_argument("--warc-dir", metavar="DIR", help="WARC directory (default: warc/ next to the archive, or in its own folder: data/demo/warc for data/demo.db)")
    parser.add_argument("--raw", action="store_true",
                        help="exactly the HTTP headers and body as stored: no decoding, no comment lines "
                             "(default: off)")


def add_status(commands) -> None:
    parser = add_command(commands, "status", "what the archive holds: articles, runs, revisits, checks, sizes", """\
What an archivist asks first: the articles by language and section, the
first and last publication dates, the last five runs and how they ended,
the articles due for a revisit, the last "archiver verify" result, and the
size of the WARC and media stores. Plain text, or JSON with --json.""", """\
  archiver status
  archiver status --db /srv/archive/csto.db --json""", lazy(".archive.status:status_command"))
    parser.add_argument("--db", default="data/archive.db", metavar="PATH", help="the archive (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print JSON, for scripts (default: plain text)")


TRACEBACK_HELP = "on an error, print its traceback, not one line (default: off)"


def add_rebuild(commands) -> None:
    parser = add_command(commands, "rebuild", "re-derive the archive from WARC files (its own, or another crawler's)",
                         """\
Read the WARC files and run every HTML page through the crawl's extraction
(same profile, classification, normalization, deduplication), on every core,
into the archive: articles, images, documents (linked to their captures,
never downloaded), aliases and versions. Into an empty database it makes the
archive the crawl made. Into an existing one, an article whose extraction
now gives another title, date or text gets a new version (reason
"re-extracted"); unchanged articles are left alone. Records that are not
HTML pages are skipped and counted. Progress on a terminal, else one
summary line. Exit 0 done, 2 bad argument, 65 damaged WARC record (nothing
written), 66 missing input or not a WARC file, 74 write failed, 75 the
archive is in use, 130 interrupted.""", """\
  archiver rebuild --db data/archive.db
  archiver rebuild --db /tmp/new.db --warc data/warc
  archiver rebuild --db other.db --warc crawl.warc.gz --profile mysite.toml""",
                         lazy(".rebuild.command:rebuild_command"))
    parser.add_argument("--db", default="data/archive.db", metavar="PATH",
                        help="the archive to write, created if missing (default: %(default)s)")
    parser.add_argument("--warc", nargs="+", metavar="DIR_OR_FILE",
                        help="WARC files, or directories of them, read in name order (default: warc/ next to the "
                             "archive)")
    parser.add_argument("--profile", default="csto", metavar="NAME_OR_TOML",
                        help="site profile: a bundled name or a TOML file, as the crawl's (default: %(default)s)")
    parser.add_argument("--processes", type=int, default=None, metavar="N",
                        help="extraction worker processes, 0 to extract in this process (default: one per core, "
                             "as EXTRACTION_PROCESSES=auto)")
    parser.add_argument("--media-dir", metavar="DIR",
                        help="media store to link (and fill from the WARC files) (default: media/ next to the "
                             "archive)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archiver", description=DESCRIPTION, epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traceback", action="store_true", help=TRACEBACK_HELP)
    commands = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    for add in (add_demo, add_seed, add_ingest, add_explore, add_verify, add_show, add_status, add_rebuild):
        add(commands)
    add_wacz(commands)
    for subparser in commands.choices.values():  # also after the command: archiver show 1 --traceback
        subparser.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS, help=TRACEBACK_HELP)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; a failure ends with one line on stderr and its exit code (archiver/errors.py)."""
    arguments = build_parser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except BrokenPipeError:  # the reader went away (archiver show ... | head): nothing to tell it
        from .errors import EXIT_BROKEN_PIPE, silence_stdout

        silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        from .errors import EXIT_INTERRUPTED

        return EXIT_INTERRUPTED
    except Exception as error:
        if arguments.traceback or str(getattr(arguments, "log_level", "")).upper() == "DEBUG":
            raise
        from .errors import explain

        line, code = explain(error, arguments)
        print(f"archiver {arguments.command}: {line}; exit {code}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
