"""A Scrapy extension for the benchmark: when the first and the last response arrived.

bench.py adds it to the crawls it measures, with this directory on ``PYTHONPATH`` and the file to write
named in the environment (``BENCH_TIMELINE_FILE``); without one, it is off. At the end of the crawl it
writes, as JSON, the first and last response's times on the system's monotonic clock: the same clock in
every process, so bench.py sets them against the moments it started the process and saw it end.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured


class ResponseTimeline:
    def __init__(self, path: Path):
        self.path, self.first, self.last = path, None, None

    @classmethod
    def from_crawler(cls, crawler):
        path = os.environ.get("BENCH_TIMELINE_FILE")
        if not path:
            raise NotConfigured("no BENCH_TIMELINE_FILE")
        timeline = cls(Path(path))
        crawler.signals.connect(timeline.response_received, signal=signals.response_received)
        crawler.signals.connect(timeline.engine_stopped, signal=signals.engine_stopped)
        return timeline

    def response_received(self):
        self.last = time.monotonic()
        if self.first is None:
            self.first = self.last

    def engine_stopped(self):
        self.path.write_text(json.dumps({"first_response": self.first, "last_response": self.last}))
