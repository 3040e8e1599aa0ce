"""``scrapy crawl``, returning the archive run's exit code so cron can act on it.

0 success, 3 crawl failed, 4 degraded, 75 another run holds the archive
(see :mod:`archiver.crawl.runs`); Scrapy's own 1 (bootstrap failed) and 2 (usage).
"""

from __future__ import annotations

import gc

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from ..crawl.runs import FINISHED_RUNS


class Command(ScrapyCrawlCommand):
    def run(self, args, opts):
        super().run(args, opts)
        codes = [run.exit_code for run in FINISHED_RUNS]
        if codes and not self.exitcode:
            self.exitcode = max(codes)
        # The crawl is over and has closed what it wrote (archive, WARC files, feeds). The interpreter's
        # exit would still run a full garbage collection over every object the crawl made, only to free
        # memory that the process's end frees anyway (benchmarks/NOTES.md).
        gc.freeze()
