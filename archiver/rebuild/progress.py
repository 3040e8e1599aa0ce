"""What a rebuild shows while it runs: on a terminal, a live line per pass (records read; pages extracted,
articles written, rate, ETA); elsewhere (cron, a pipe) nothing until the one summary line."""

from __future__ import annotations

import sys
import time


class Quiet:
    """No live display (stderr is not a terminal)."""

    def start_reading(self) -> None:
        pass

    def read(self, records: int) -> None:
        pass

    def start_extracting(self, pages: int) -> None:
        pass

    def extracted(self, pages: int, articles: int, final: bool = False) -> None:
        pass

    def stop(self) -> None:
        pass


class Live(Quiet):
    """A rich progress display on stderr, refreshed a few times a second."""

    def __init__(self, stream=None):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TaskProgressColumn(), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(),
                                 console=Console(file=stream or sys.stderr), transient=False)
        self.task = None
        self.records = 0
        self.started = time.monotonic()
        self.last = 0.0

    def start_reading(self) -> None:
        self.progress.start()
        self.task = self.progress.add_task("WARC records read", total=None, rate="")

    def read(self, records: int) -> None:
        self.records = records
        if self._due():
            self.progress.update(self.task, completed=records)

    def start_extracting(self, pages: int) -> None:
        self.progress.update(self.task, completed=self.records, total=self.records or 1)
        self.task = self.progress.add_task("pages extracted", total=pages, rate="")
        self.started = time.monotonic()

    def extracted(self, pages: int, articles: int, final: bool = False) -> None:
        if final or self._due():
            rate = pages / max(time.monotonic() - self.started, 1e-6)
            self.progress.update(self.task, completed=pages, rate=f"{articles} articles, {rate:.0f} pages/s")

    def stop(self) -> None:
        self.progress.stop()

    def _due(self) -> bool:
        now = time.monotonic()
        if now - self.last < 0.2:
            return False
        self.last = now
        return True


def display(stream=None) -> Quiet:
    """A live display when ``stream`` (stderr) is a terminal, else none."""
    stream = stream or sys.stderr
    return Live(stream) if stream.isatty() else Quiet()
