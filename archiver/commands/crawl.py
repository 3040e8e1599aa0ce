"""``scrapy crawl``, returning the archive run's exit code so cron can act on it.

0 success, 3 crawl failed, 4 degraded, 74 a write failed, 75 another run holds the archive
(see :mod:`archiver.crawl.runs`); Scrapy's own 1 (the crawl could not start) and 2 (usage: a bad
option, an unknown profile, a bad seed URL). Errors are logged in one line each, without tracebacks,
unless ``--traceback`` or ``-s LOG_LEVEL=DEBUG`` asks for them (:mod:`archiver.crawl.oneline`).
"""

from __future__ import annotations

import gc
import logging
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from ..crawl import oneline
from ..crawl.runs import FINISHED_RUNS

EXIT_BOOTSTRAP = 1  # Scrapy's: the crawl could not start
EXIT_USAGE = 2  # Scrapy's usage errors, and spider arguments the crawl cannot use


class Command(ScrapyCrawlCommand):
    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--traceback", action="store_true",
                            help="log errors with their tracebacks (default: one line each)")

    def process_options(self, args, opts):
        super().process_options(args, opts)
        level = _log_level(self.settings.get("LOG_LEVEL"))
        if level != self.settings.get("LOG_LEVEL"):
            self.settings.set("LOG_LEVEL", level, priority="cmdline")
        if opts.traceback:
            self.settings.set("LOG_TRACEBACKS", True, priority="cmdline")

    def run(self, args, opts):
        if args and args[0] == "news" and not self._arguments_usable(opts.spargs):
            self.exitcode = EXIT_USAGE
            return
        last_error = LastError()
        logging.getLogger().addHandler(last_error)
        try:
            super().run(args, opts)
        finally:
            logging.getLogger().removeHandler(last_error)
        codes = [run.exit_code for run in FINISHED_RUNS]
        if codes and not self.exitcode:
            self.exitcode = max(codes)
        for line in filter(None, (run.failure_line() for run in FINISHED_RUNS)):  # after Scrapy's last log line
            print(line, file=sys.stderr, flush=True)
        if self.exitcode == EXIT_BOOTSTRAP and not FINISHED_RUNS:
            cause = last_error.line or "see the log above"
            print(f"archiver: the crawl could not start: {cause}; exit {EXIT_BOOTSTRAP}", file=sys.stderr)
        # The crawl is over and has closed what it wrote (archive, WARC files, feeds). The interpreter's
        # exit would still run a full garbage collection over every object the crawl made, only to free
        # memory that the process's end frees anyway (benchmarks/NOTES.md).
        gc.freeze()

    def _arguments_usable(self, spargs: dict) -> bool:
        """The news spider's profile and seeds, checked before anything starts: one line when they are bad."""
        from ..spiders.seeds import BadSeed, check_arguments

        try:
            check_arguments(spargs.get("profile") or self.settings.get("SITE_PROFILE"), spargs.get("start_urls"))
        except BadSeed as error:
            print(f"archiver: {error}; exit {EXIT_USAGE}", file=sys.stderr)
            return False
        except (ValueError, OSError) as error:  # an unknown profile, or a profile file that does not read
            print(f"archiver: {error}; give -a profile=NAME (a bundled profile) or -a profile=PATH.toml; "
                  f"exit {EXIT_USAGE}", file=sys.stderr)
            return False
        return True

    def _create_crawler(self, spidercls):
        crawler = super()._create_crawler(spidercls)
        oneline.install(crawler.settings)  # the crawler has just set up the log handler
        return crawler


def _log_level(level):
    """``LOG_LEVEL`` as the logging module takes it (``warning`` is ``WARNING``); one line and exit 2 (usage)
    for one it would refuse with a traceback."""
    if isinstance(level, int) or str(level).isdigit():
        return int(level)
    if str(level).upper() in logging.getLevelNamesMapping():
        return str(level).upper()
    print(f"archiver: unknown LOG_LEVEL {level!r}: give CRITICAL, ERROR, WARNING, INFO or DEBUG; exit {EXIT_USAGE}",
          file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


class LastError(logging.Handler):
    """The last ERROR record, in one line: why a crawl could not start, even with ``--nolog``."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.line = ""
        self.setFormatter(oneline.OneLineFormatter("%(message)s"))

    def emit(self, record):
        # An exception says more than the message that carries it ("Task exception was never retrieved").
        self.line = oneline.exception_line(record.exc_info) if record.exc_info else self.format(record)
