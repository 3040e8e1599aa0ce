"""How bench.py measures one process: its wall time, the CPU time and peak memory of it and of every process
under it (psutil), the CPU time the whole machine was busy meanwhile (``/proc/stat``), and, from
benchmarks/timeline.py's file, its start, steady part and end."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


class ProcessWatcher(threading.Thread):
    """Polls a process and all its descendants (psutil): peak resident memory, and the CPU time each used.

    Resident sizes (RSS, from ``/proc/PID/statm``: microseconds) are read every 0.25 s. The proportional
    set size (PSS) needs a walk of each process's page tables (``smaps``: about 8 ms for a 250 MB process
    on the benchmark machine): read every 0.25 s for the five processes of an all-cores crawl, it took a
    tenth of a core from the very crawl it measured. So it is read when the summed RSS reaches a new peak,
    at most once a second, and every 2 s otherwise. CPU times (user + system, ``/proc/PID/stat``) are the
    last read of each process: a process that exits between two reads loses at most its last 0.25 s.
    """

    TICK = 0.25
    TREE_EVERY = 4  # ticks between two looks for new processes (workers) under the main one
    PSS_AT_PEAK_EVERY = 4  # ticks at least between two PSS readings at new RSS peaks
    PSS_EVERY = 8  # ticks at most between two PSS readings

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.main_peak, self.tree_peak, self.tree_pss_peak, self.done = pid, 0, 0, 0, False
        self.cpu: dict[int, float] = {}  # pid -> CPU seconds, as last read

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())

    def read_cpu(self, process: psutil.Process) -> None:
        seconds = cpu_seconds(process)
        if seconds:  # 0.0: gone meanwhile, its last reading stands
            self.cpu[process.pid] = seconds

    @staticmethod
    def rss(process: psutil.Process) -> int:
        try:
            return process.memory_info().rss
        except psutil.Error:  # gone meanwhile
            return 0

    @staticmethod
    def pss(process: psutil.Process) -> int:
        """PSS divides shared pages (libraries, the fork server's preloaded modules) among the processes
        sharing them: a sum counts them once."""
        try:
            return process.memory_full_info().pss
        except psutil.Error:
            return 0

    def run(self):
        try:
            main = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        tree, last_pss = [main], -self.PSS_EVERY
        for tick in itertools.count():
            if self.done:
                return
            if tick % self.TREE_EVERY == 1:  # the workers start during the first second
                try:
                    tree = [main, *main.children(recursive=True)]
                except psutil.NoSuchProcess:
                    return
            sizes = [self.rss(process) for process in tree]
            for process in tree:
                self.read_cpu(process)
            self.main_peak = max(self.main_peak, sizes[0])
            new_peak = sum(sizes) > self.tree_peak
            self.tree_peak = max(self.tree_peak, sum(sizes))
            since = tick - last_pss
            if since >= self.PSS_EVERY or (new_peak and since >= self.PSS_AT_PEAK_EVERY):
                self.tree_pss_peak = max(self.tree_pss_peak, sum(map(self.pss, tree)))
                last_pss = tick
            time.sleep(self.TICK)


def run_measured(command: list[str], env: dict | None = None, one_core: bool = False,
                 timeline: Path | None = None, replica: psutil.Process | None = None) -> dict:
    """Runs a measured process; with ``timeline``, the file its ResponseTimeline extension writes
    (benchmarks/timeline.py), the run is also split into its start, steady part and end. With ``replica``,
    the CPU time the replica's process used meanwhile is read too."""
    if one_core:
        command = ["taskset", "-c", "0", *command]
    env = {**os.environ, **(env or {})}
    if timeline is not None:
        timeline.unlink(missing_ok=True)
        env["BENCH_TIMELINE_FILE"] = str(timeline)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "benchmarks"), env.get("PYTHONPATH")]))
    replica_cpu = cpu_seconds(replica)
    machine_busy = machine_busy_seconds()
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher = ProcessWatcher(process.pid)
    watcher.start()
    out, err = process.communicate()
    ended = time.monotonic()
    replica_cpu = cpu_seconds(replica) - replica_cpu
    machine_busy_after = machine_busy_seconds()
    watcher.done = True
    watcher.join()
    if process.returncode not in (0, 4):  # 4: degraded (e.g. no new article on a re-crawl) is fine here
        raise RuntimeError(f"{command[:6]} exited {process.returncode}:\n{err[-3000:]}")
    result = {"seconds": ended - started, "peak_rss_main": watcher.main_peak,
              "peak_rss_all": watcher.tree_peak, "peak_pss_all": watcher.tree_pss_peak, "stdout": out,
              "cpu_seconds": watcher.cpu_seconds, "replica_cpu_seconds": replica_cpu,
              "machine_busy_seconds": None if machine_busy is None or machine_busy_after is None
              else machine_busy_after - machine_busy}
    if timeline is not None:
        result.update(phases(json.loads(timeline.read_text()), started, ended))
    return result


def cpu_seconds(process: psutil.Process | None) -> float:
    """A process's own CPU time, user and system (not its children's: the fork server reaps the workers,
    which are counted on their own); 0.0 for none, or when it is gone."""
    if process is None:
        return 0.0
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def machine_busy_seconds() -> float | None:
    """CPU time the machine's cores have been busy since it booted, every process and the kernel's own work
    (``/proc/stat``: user, nice, system, irq and softirq; not idle, iowait, or steal, which is the
    hypervisor's); ``None`` where there is no ``/proc/stat``. Unlike the per-process readings above, it misses
    nothing that exits between two polls, and counts the benchmark's own polling too (a few ms a second)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(value) for value in stat.readline().split()[1:8]]
        user, nice, system, _idle, _iowait, irq, softirq = fields
    except (OSError, ValueError):
        return None
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def phases(timeline: dict, started: float, ended: float) -> dict:
    """A crawl's start (its process started, to the first response) and its end (the last response, to
    the process's exit): alike in every crawl (imports, opening, closing), and trafilatura's loop has
    neither. What lies between is the crawl's steady part (see steady_rate())."""
    first, last = timeline["first_response"], timeline["last_response"]
    if first is None:  # no response at all: all of it was start
        return {"start_seconds": ended - started, "end_seconds": 0.0}
    return {"start_seconds": first - started, "end_seconds": ended - last}


def steady_rate(result: dict) -> float:
    """Pages a second between the first response and the last: the same pages as the whole run's rate
    (robots.txt, redirects and retries are responses, not pages), over the run without its start and end."""
    steady_seconds = result["seconds"] - result["start_seconds"] - result["end_seconds"]
    return result["pages"] / steady_seconds if steady_seconds > 0 else 0.0
