"""HTTP serving of the replica: one ThreadingHTTPServer per loopback address, same port on each.

Routes (same on both language hosts): /robots.txt; /upload/..., /local/..., /bitrix/... (generated JPEG/PNG/PDF);
/, /about/ ... (static); /search/?q=; /news/ and /news/<section>/ (?PAGEN_1=N, past the end = last page);
/news/?arrFilter_DATE=YYYY-MM-DD&set_filter=Y; /news/calendar/?date=YYYY-MM-DD (endless); /news/old/<n>/ -> 301
/news/redirect/?to=<path> -> 302; /news/loop-a/ <-> /news/loop-b/; the trap paths in content.TRAPS; article paths
(also with any query, with index.php, ?print=Y; without the trailing slash -> 301). The external host answers a
trivial page for any path. The "variant" flavour renders with pages_variant, pages one section with ?PAGEN_2=N and
adds /news/archive/YYYY-MM-DD/ (endless) and /news/?tags=<word>.
"""

from __future__ import annotations

import copy
import datetime as dt
import email.utils
import gzip
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from . import binary, markup, pages, pages_variant, sitemaps, texts
from . import requisites  # the template's stylesheets, scripts and images
from .content import TRAP_BY_PATH, TRAPS, ReplicaSite
from .model import NEWEST_DATE

ROBOTS = "User-agent: *\nDisallow: /bitrix/\nDisallow: /search/\nDisallow: /news/closed/\n"
STATIC = {"/": "home", "/about/": "About the CSTO", "/authorized_organs/": "Authorized organs",
          "/documents/": "Documents", "/contacts/": "Contacts"}
FLAKY_FAILURES = 2


class Response:
    """What a route produces; the handler adds validators, compression and the hit record."""

    def __init__(self, status=200, body: bytes | str = b"", ctype="text/html; charset=UTF-8", headers=None,
                 validators=False, modified: float | None = None, chunks=None, length=None, compressible=True,
                 cacheable=False):
        self.status, self.ctype, self.headers = status, ctype, dict(headers or {})
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.validators, self.modified = validators, modified
        self.chunks, self.length, self.compressible = chunks, length, compressible
        # Rendered once per site version: ordinary article and listing pages (never stateful traps).
        self.cacheable, self.gzipped = cacheable, None
        # Hashed once, when the page is rendered: a rendered page's copies (one a request) share it. (At every
        # request it cost the replica CPU taken from the crawler's cores when the benchmark runs both.)
        self.etag = etag_of(self.body) if validators else None


def etag_of(body: bytes) -> str:
    return '"%s"' % hashlib.md5(body).hexdigest()[:20]


def redirect(status: int, location: str) -> Response:
    return Response(status, f'<html><body><a href="{location}">Moved</a></body></html>', headers={"Location": location})


class QuietHTTPServer(ThreadingHTTPServer):
    """A client that hangs up early (a crawler's size cap, a killed crawl) is not an error here."""

    daemon_threads = True
    # nginx's listen backlog. socketserver's default of 5 made the kernel drop the connections a crawl opens
    # at once beyond the first few (TcpExtListenDrops: 6 in a 2,000-article all-cores crawl at 16 concurrent
    # requests, 12 at 32): each dropped connection's request waited for TCP's one-second SYN retry.
    request_queue_size = 511

    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class ReplicaServer:
    """The running replica. `base_urls`, `seeds`, `hits`, `external_url`; `stop()` or use as a context manager.

    `hits` holds one dict a request (host, method, path, status), recorded on arrival; its status is None until
    the answer is decided (a delayed page's can come after its client gave up)."""

    def __init__(self, site: ReplicaSite, port: int, hosts, external_host, slow_seconds: float,
                 huge_page_bytes: int):
        if len(hosts) != 2:
            raise ValueError("hosts must be two loopback addresses: (English, Russian)")
        self.site, self.slow_seconds, self.huge_page_bytes = site, slow_seconds, huge_page_bytes
        self.send_validators = True  # False: no ETag nor Last-Modified, and never 304 (a server without validators)
        self.hostile_sitemaps = False  # robots.txt then also lists a looping sitemap index and a 20 MB sitemap
        self.hits: list[dict] = []
        self.rendered: dict = {}  # (host, path, site version) -> Response of a cacheable page
        self.rendered_version = site.version
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = {}
        roles = [(hosts[0], "en"), (hosts[1], "ru")] + ([(external_host, "external")] if external_host else [])
        self._servers = self._bind(roles, port)
        self.port = self._servers[0].server_address[1]
        self.base_urls = {"en": f"http://{hosts[0]}:{self.port}", "ru": f"http://{hosts[1]}:{self.port}"}
        self.seeds = [self.base_urls["en"] + "/news/", self.base_urls["ru"] + "/news/"]
        self.external_url = f"http://{external_host}:{self.port}" if external_host else None
        self._threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
                         for s in self._servers]
        for t in self._threads:
            t.start()

    def _bind(self, roles, port: int) -> list[QuietHTTPServer]:
        """Bind the first address (port 0 picks a free port), then the same port on the others; retry if taken."""
        for _ in range(50):
            servers: list[QuietHTTPServer] = []
            try:
                for host, role in roles:
                    srv = QuietHTTPServer((host, servers[0].server_address[1] if servers else port), Handler)
                    srv.daemon_threads = True
                    srv.replica, srv.role = self, role
                    servers.append(srv)
                return servers
            except OSError:
                for srv in servers:
                    srv.server_close()
                if port:
                    raise
        raise OSError("could not find a port free on all replica addresses")

    def count(self, host: str, path: str) -> int:
        """Requests seen so far for (host, path), this one included."""
        with self._lock:
            n = self._counts.get((host, path), 0) + 1
            self._counts[(host, path)] = n
            return n

    def record(self, hit: dict) -> None:
        with self._lock:
            self.hits.append(hit)

    def ground_truth(self) -> list[dict]:
        return self.site.ground_truth(self.base_urls)

    def ground_truth_excluded(self) -> list[dict]:
        return self.site.ground_truth_excluded(self.base_urls, self.external_url)

    def stop(self) -> None:
        for srv in self._servers:
            srv.shutdown()
            srv.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def serve_replica(site: ReplicaSite, port: int = 0, hosts=("127.0.0.1", "127.0.0.2"), external_host="127.0.0.3",
                  slow_seconds: float = 4.0, huge_page_bytes: int = 12_000_000) -> ReplicaServer:
    """Start serving `site` in background threads; first host is English, second Russian."""
    return ReplicaServer(site, port, tuple(hosts), external_host, slow_seconds, huge_page_bytes)


def renderer(site: ReplicaSite):
    """The pages module of the site's flavour."""
    return pages_variant if site.flavour == "variant" else pages


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = 60
    # TCP_NODELAY, as nginx sets on kept-alive connections (`tcp_nodelay on`): a page's head and body leave in
    # two writes, and with Nagle's algorithm the body waited for the client to acknowledge the head, which
    # clients delay by 40 ms. Every request but a connection's first took 40 ms more.
    disable_nagle_algorithm = True

    def log_message(self, *args):  # keep test output clean
        pass

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        replica: ReplicaServer = self.server.replica
        host = "%s:%d" % self.server.server_address[:2]
        key = (host, self.path, replica.site.version)
        # Recorded on arrival, so a request counts for the crawl that sent it even when its answer is delayed
        # past that crawl's end (the slow page); the status is filled in once known (None until then).
        hit = {"host": host, "method": self.command, "path": self.path, "status": None}
        replica.record(hit)
        with replica._lock:
            if replica.rendered_version != replica.site.version:
                replica.rendered.clear()  # the site changed: every rendered page may be stale
                replica.rendered_version = replica.site.version
            resp = replica.rendered.get(key)
        if resp is None:
            try:
                resp = self._route(replica, host)
            except Exception as exc:  # a replica bug must show up as a 500, not a dropped connection
                resp = Response(500, f"<h1>Internal error</h1><pre>{exc!r}</pre>")
            if resp.cacheable:
                resp.gzipped = gzip.compress(resp.body, 6)
                replica.rendered[key] = resp
        resp = copy.copy(resp)  # _send adds headers to its own copy
        resp.headers = dict(resp.headers)
        resp.validators = resp.validators and replica.send_validators
        not_modified = resp.status == 200 and resp.validators and self._not_modified(resp.etag, resp.modified)
        # Set before the answer leaves: a client that has its answer finds the status already there.
        hit["status"] = 304 if not_modified else resp.status
        try:
            self._send(resp, head, not_modified)
        except (BrokenPipeError, ConnectionResetError):  # e.g. a client whose timeout fired during the delay
            self.close_connection = True

    def _send(self, resp: Response, head: bool, not_modified: bool) -> None:
        body = resp.body
        if resp.validators and resp.status == 200:
            resp.headers["ETag"] = resp.etag
            if resp.modified:
                resp.headers["Last-Modified"] = email.utils.formatdate(resp.modified, usegmt=True)
            if not_modified:
                resp.status, body, resp.chunks = 304, b"", None
        if (resp.compressible and resp.status != 304 and body and resp.chunks is None
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            body = resp.gzipped or gzip.compress(body, 6)
            resp.headers["Content-Encoding"] = "gzip"
            resp.headers["Vary"] = "Accept-Encoding"
        self.send_response(resp.status)
        if resp.status != 304:
            self.send_header("Content-Type", resp.ctype)
        self.send_header("Content-Length", str(resp.length if resp.chunks is not None else len(body)))
        self.send_header("X-Powered-CMS", "Bitrix Site Manager (DEMO)")
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if head:
            return
        if resp.chunks is not None:  # clients with a size cap hang up mid-body; _serve absorbs that
            for chunk in resp.chunks:
                self.wfile.write(chunk)
        else:
            self.wfile.write(body)

    def _not_modified(self, etag: str, modified: float | None) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm:
            return inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")]
        ims = self.headers.get("If-Modified-Since")
        if ims and modified:
            try:
                return int(modified) <= email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    # --------------------------------------------------------------------------------------- routing
    def _route(self, replica: ReplicaServer, host: str) -> Response:
        role = self.server.role
        if role == "external":
            return Response(200, "<html><head><title>Partner</title></head><body><p>An external partner site."
                                 "</p></body></html>")
        site = replica.site
        parts = urlsplit(self.path)
        path, query = unquote(parts.path), parse_qs(parts.query)
        ctx = markup.Ctx(site, role, replica.base_urls, replica.external_url, parts.path)
        render = renderer(site)
        html = lambda body, status=200, **kw: Response(status, body, **kw)

        if path == "/robots.txt":
            robots = ROBOTS + sitemaps.robots_lines(replica.base_urls[role], replica.hostile_sitemaps)
            return Response(200, robots, "text/plain; charset=UTF-8")
        if path == "/sitemap-huge.xml" and replica.hostile_sitemaps:
            length, chunks = sitemaps.huge_sitemap(replica.base_urls[role])
            return Response(200, chunks=chunks, ctype=sitemaps.XML, length=length, compressible=False)
        found = sitemaps.route(site, role, replica.base_urls[role], path, replica.hostile_sitemaps)
        if found:
            status, body, ctype = found
            return Response(status, body, ctype, compressible=not ctype.endswith("gzip"))
        if path.startswith(("/upload/", "/local/", "/bitrix/")):
            return self._asset(path)
        if path in STATIC:
            title = texts.UI[role]["org"] if STATIC[path] == "home" else STATIC[path]
            return html(render.static_page(ctx, title))
        if path.startswith("/search/"):
            q = query.get("q", [""])[0]
            found = [a for a in site.articles(role) if q and q.lower() in a.shown_title.lower()][:10]
            return html(render.simple_list_page(ctx, texts.UI[role]["search_results"], found))
        if path == "/news/loop-a/":
            return redirect(302, "/news/loop-b/")
        if path == "/news/loop-b/":
            return redirect(302, "/news/loop-a/")
        if path.startswith("/news/old/"):
            target = site.old_redirect_target(int("".join(c for c in path if c.isdigit()) or 0))
            if target:
                return redirect(301, "/news/redirect/?to=" + quote(target, safe=""))
        if path == "/news/redirect/":
            to = query.get("to", [""])[0]
            if to.startswith("/news/"):
                return redirect(302, to)
        if path == "/news/calendar/":
            try:
                day = dt.date.fromisoformat(query.get("date", [""])[0])
            except ValueError:
                day = NEWEST_DATE
            return html(render.calendar_page(ctx, day))
        if site.flavour == "variant" and path.startswith("/news/archive/") and path.count("/") == 4:
            try:
                return html(render.archive_page(ctx, dt.date.fromisoformat(path.split("/")[3])))
            except ValueError:
                pass
        if site.flavour == "variant" and path == "/news/" and "tags" in query:
            return html(render.tag_page(ctx, query["tags"][0]))
        if path == "/news/" and "arrFilter_DATE" in query:
            try:
                day = dt.date.fromisoformat(query["arrFilter_DATE"][0])
            except ValueError:
                day = NEWEST_DATE
            return html(render.simple_list_page(ctx, texts.UI[role]["news"], site.on_day(role, day)))
        if path == "/news/" or (markup.section_of(path) and path.count("/") == 3 and path.endswith("/")):
            page_no = query.get(site.page_param(markup.section_of(path)), ["1"])[0]
            newest = max((a.modified for a in site.articles(role)[:10]), default=None)
            return html(render.listing_page(ctx, markup.section_of(path), int(page_no) if page_no.isdigit() else 1),
                        validators=True, modified=newest, cacheable=True)
        if path in TRAP_BY_PATH:
            return self._trap(replica, ctx, TRAP_BY_PATH[path], render)
        if path.startswith("/news/") and not path.endswith("/") and "." not in path.rsplit("/", 1)[1]:
            return redirect(301, parts.path + "/" + (f"?{parts.query}" if parts.query else ""))
        if path.endswith("/index.php"):
            path = path[: -len("index.php")]
        found = site.find(role, path)
        if found and found[0].deleted == "soft_404":
            return Response(200, render.soft_404_page(ctx, found[1]))
        if not found or found[0].deleted:
            return html(render.not_found_page(ctx), 404)
        art, section = found
        if query.get("print") == ["Y"]:
            return html(render.print_page(ctx, art))
        if art.role == "flaky" and not parts.query and replica.count(host, path) <= FLAKY_FAILURES:
            return html("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", 503,
                        headers={"Retry-After": "1"})
        if art.role == "slow" and not parts.query and replica.count(host, path) == 1:
            time.sleep(replica.slow_seconds)
        body = render.article_page(ctx, art, section)
        cacheable = art.role not in ("flaky", "slow")
        if art.role == "cp1251":  # charset only in the <meta http-equiv>, not in the header
            return Response(200, body.encode("cp1251", "xmlcharrefreplace"), "text/html", validators=True,
                            modified=art.modified, cacheable=cacheable)
        return html(body, validators=True, modified=art.modified, cacheable=cacheable)

    def _trap(self, replica: ReplicaServer, ctx: markup.Ctx, kind: str, render) -> Response:
        title = TRAPS[kind][1 if ctx.lang == "en" else 2]
        if kind == "not_found":
            return Response(404, render.not_found_page(ctx))
        if kind == "gone":
            return Response(410, render.not_found_page(ctx, "410 Gone"))
        if kind == "soft_404":
            return Response(200, render.soft_404_page(ctx, "news_odkb"))
        if kind == "error_500":
            return Response(500, "<html><body><h1>500 Internal Server Error</h1></body></html>")
        if kind == "empty":
            return Response(200, b"", compressible=False)
        if kind == "binary":
            return Response(200, binary.noise(), compressible=False)
        if kind == "huge":
            length, chunks = render.huge_page_chunks(ctx, title, replica.huge_page_bytes)
            return Response(200, chunks=chunks, length=length, compressible=False)
        return Response(200, render.closed_page(ctx, title))  # "closed": only robots.txt keeps crawlers out

    def _asset(self, path: str) -> Response:
        template_file = requisites.serve(path)
        if template_file:
            status, body, ctype = template_file
            return Response(status, body, ctype, compressible=ctype.startswith(("text/", "application/javascript")))
        name = path.lower()
        if name.endswith(".pdf"):
            return Response(200, binary.pdf(), "application/pdf", compressible=False)
        if name.endswith(".png"):
            return Response(200, binary.png(), "image/png", compressible=False)
        if name.endswith((".jpg", ".jpeg")):
            return Response(200, binary.jpeg(), "image/jpeg", compressible=False)
        if name.endswith(".svg"):
            return Response(200, '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"/>', "image/svg+xml")
        if name.endswith(".css"):
            return Response(200, "body{font-family:sans-serif}", "text/css")
        if name.endswith(".js"):
            return Response(200, "/* core */", "application/javascript")
        return Response(404, "<html><body>Not found</body></html>")
