"""A hostile web server for the tests: any page, any header, any misbehaviour, on loopback only.

    with HostileServer() as server:                        # 127.0.0.1, a free port
        server.page("/news/", "<html>...</html>")           # 200 text/html
        server.route("/x", status=302, headers={"Location": "file:///etc/hostname"})
        server.route("/raw", body=b"...", headers={"Content-Type": "text/html; charset=utf-8"})
        server.handler("/slow", lambda request: ...)        # full control: returns (status, headers, body)
        server.url("/news/")                                 # http://127.0.0.1:PORT/news/
        server.hits                                          # [(method, path, headers), ...] in order

Unknown paths answer 404. ``robots.txt`` answers 404 (everything allowed) unless routed.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

Answer = tuple[int, dict[str, str], bytes]

# A Bitrix-like article and listing, for the hostile tests' sites (two paragraphs: long enough to be an article).
PARAGRAPHS = ["Министры иностранных дел государств – членов ОДКБ обсудили ситуацию в зоне ответственности "
              "Организации и подписали заявление о сотрудничестве.",
              "Следующее заседание Совета пройдёт в Минске; в нём примут участие генеральный секретарь и "
              "постоянные представители государств – членов Организации."]


def article(title: str, images: list[str] = (), head: str = "", depth: int = 0) -> str:
    """An article page: its headline, date, ``images`` and text, the text nested ``depth`` elements deep."""
    pictures = "".join(f'<p><img src="{src}" width="800" height="600" alt="Фото"></p>' for src in images)
    text = "".join(f"<p>{paragraph}</p>" for paragraph in PARAGRAPHS)
    return (f"<!DOCTYPE html><html><head><title>{title}</title>{head}</head><body>"
            f'<div class="news-detail"><h1>{title}</h1><span class="news-date-time">03.07.2020</span>'
            f"{pictures}{'<div>' * depth}{text}{'</div>' * depth}</div></body></html>")


def listing(entries: dict[str, str]) -> str:
    """A listing page: one dated entry a ``{path: headline}``."""
    items = "".join(f'<div class="news-item"><div class="news-date-time">03.07.2020</div>'
                    f'<a href="{path}">{title}</a></div>' for path, title in entries.items())
    return f'<html><head><title>Новости</title></head><body><div class="news-list">{items}</div></body></html>'


class HostileServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.routes: dict[str, Callable[[BaseHTTPRequestHandler], Answer]] = {}
        self.hits: list[tuple[str, str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                server.hits.append(("GET", self.path, dict(self.headers)))
                answer = server.routes.get(self.path) or server.routes.get(self.path.split("?", 1)[0])
                status, headers, body = answer(self) if answer else (404, {"Content-Type": "text/plain"}, b"not here")
                if status is None:  # the handler answered (or hung up) by itself
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_HEAD = do_GET

            def log_message(self, *args):  # quiet
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def route(self, path: str, body: bytes | str = b"", status: int = 200,
              headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        answer = (status, {"Content-Type": "text/html; charset=utf-8", **(headers or {})}, data)
        self.routes[path] = lambda request: answer

    def page(self, path: str, html: str, **headers: str) -> None:
        self.route(path, html, headers=headers or None)

    def handler(self, path: str, answer: Callable[[BaseHTTPRequestHandler], Answer]) -> None:
        self.routes[path] = answer

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.hits]

    def __enter__(self) -> "HostileServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
