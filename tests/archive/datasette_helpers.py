"""A real Datasette server on a free loopback port, over a copy of a crawled archive, and a headless Chromium to
look at it (tests only)."""

from __future__ import annotations

import base64
import json
import os
import select
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from conftest import free_port


def copy_archive(source: Path, target_dir: Path, name: str = "archive.db") -> Path:
    """A consistent copy of ``source`` (SQLite backup API: the WAL is included)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / name
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def link_stores(source: Path, target_dir: Path) -> None:
    """The WARC files and media store of the archive ``source``, linked next to a copy of it in ``target_dir``."""
    for store in ("warc", "media"):
        if (source.parent / store).is_dir() and not (target_dir / store).exists():
            (target_dir / store).symlink_to(source.parent / store, target_is_directory=True)


class Server:
    def __init__(self, base: str, process: subprocess.Popen):
        self.base, self.process = base, process

    def url(self, path: str, **params) -> str:
        return self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")

    def get(self, path: str, **params) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url(path, **params), timeout=20) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def json(self, path: str, **params):
        status, body = self.get(path, **params)
        assert status == 200, (path, params, status, body[:500])
        return json.loads(body)


@contextmanager
def serve_datasette(config_dir: Path, env: dict | None = None):
    """``datasette CONFIG_DIR`` exactly as the README says (no other flag but host and port), run from the
    directory above it (so the archive is ``data/archive.db`` for Datasette, as in the README); ``env``: more
    environment variables (``ARCHIVER_REPLAY_URL``)."""
    port = free_port()
    log = open(config_dir / "datasette.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "datasette", config_dir.name, "-h", "127.0.0.1",
                                "-p", str(port)], cwd=config_dir.parent, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, **(env or {})})
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.get("/-/versions.json")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Datasette did not start: " + (config_dir / "datasette.log").read_text())
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class Browser:
    """Headless Chromium driven through the DevTools protocol over a pipe (``--remote-debugging-pipe``: fd 3 in,
    fd 4 out, JSON messages ended by NUL), so a test can read the rendered page and measure it like a person."""

    def __init__(self, executable: str, profile: Path, width: int = 1400, height: int = 1000):
        self.width, self.height = width, height
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()

        def wire():  # in the child, before exec: fd 3 reads our commands, fd 4 writes the answers
            high_in, high_out = os.dup(to_browser), os.dup(from_browser)  # neither is 3 or 4 by chance
            os.dup2(high_in, 3)  # inheritable: survives exec, unlike every other fd of ours
            os.dup2(high_out, 4)

        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
             "--hide-scrollbars", "--remote-debugging-pipe", f"--user-data-dir={profile}",
             f"--window-size={width},{height}", "about:blank"],
            close_fds=False, preexec_fn=wire,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer, self._next_id, self.events = b"", 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page.enable", "Runtime.enable"):
            self.call(domain, session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    def call(self, method: str, session: bool = False, timeout: float = 30, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise TimeoutError("no answer from Chromium")
            ready, _, _ = select.select([self._read], [], [], 0.5)
            if ready:
                self._buffer += os.read(self._read, 1 << 20)
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, url: str, timeout: float = 30) -> None:
        """Load ``url`` and wait for its load event."""
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        deadline = time.monotonic() + timeout
        while not any(event.get("method") == "Page.loadEventFired" for event in self.events):
            self.events.append(self._receive(deadline))

    def js(self, expression: str):
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20):
        """Poll until the expression is truthy (a chart drawn after its data arrived); its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.2)

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        params = {"format": "png"}
        if full_page:
            height = min(int(self.js("document.documentElement.scrollHeight")), 4000)
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1})
        data = self.call("Page.captureScreenshot", session=True, **params)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write)
        os.close(self._read)
