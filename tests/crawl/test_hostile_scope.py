"""Scope against hostile pages, end to end: only http(s) is downloaded, media come from where the scope allows
(robots.txt obeyed there), and redirects stay on a seed's host and port (docs/security.md)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from conftest import run_crawl
from hostile import HostileServer, article, listing

JPEG = {"Content-Type": "image/jpeg"}
PICTURE = b"\xff\xd8\xff\xe0 a picture \xff\xd9"


def serve_site(server: HostileServer, articles: dict[str, tuple[str, list[str]]]) -> str:
    """A listing at /news/news_odkb/ and its articles {path: (title, image srcs)}; returns the seed."""
    server.page("/news/news_odkb/", listing({path: title for path, (title, _) in articles.items()}))
    for path, (title, images) in articles.items():
        server.page(path, article(title, images))
    return server.url("/news/news_odkb/")


def stat(log: str, name: str) -> int:
    found = re.search(rf"'{re.escape(name)}': (\d+)", log)
    return int(found.group(1)) if found else 0


def stored_images(result) -> dict[str, str | None]:
    return {row["src"]: row["sha256"] for row in result.rows("select src, sha256 from images")}


def everything_stored(directory: Path) -> bytes:
    """Every byte the crawl wrote next to its database: the database, media, WARC files (unzipped), index."""
    data = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data.append(gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes())
    return b"\n".join(data)


# -- only http and https --------------------------------------------------------------------------------------

def test_local_files_and_other_schemes_are_never_read(tmp_path):
    """``<img src="file://...">`` and ``ftp://`` images are dropped at extraction; redirects to ``file:``, ``ftp:``
    and ``data:`` are refused with a line naming them. Nothing of the local file reaches the archive."""
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"TOP-SECRET-LOCAL-FILE")
    archive = tmp_path / "archive"
    with HostileServer() as server:
        own = server.url("/upload/own.jpg")
        server.route("/upload/own.jpg", PICTURE, headers=JPEG)
        redirects = {"/news/news_odkb/to-file/": f"file://{secret}",
                     "/news/news_odkb/to-ftp/": f"ftp://{server.host}:{server.port}/x.html",
                     "/news/news_odkb/to-data/": "data:text/html,<p>inline</p>"}
        seed = serve_site(server, {"/news/news_odkb/local-file/": (
            "Заседание Совета министров иностранных дел", [f"file://{secret}", own, f"ftp://{server.host}/a.jpg"])})
        server.page("/news/news_odkb/", listing({"/news/news_odkb/local-file/": "Заседание Совета министров",
                                                 **{path: f"Новость {n}" for n, path in enumerate(redirects)}}))
        for path, target in redirects.items():
            server.route(path, status=302, headers={"Location": target})
        result = run_crawl([seed], archive / "archive.db")
    assert result.returncode == 0, result.log[-3000:]
    assert stored_images(result).keys() == {own}, result.log[-3000:]
    assert stored_images(result)[own] is not None  # http images are still archived
    assert b"TOP-SECRET-LOCAL-FILE" not in everything_stored(archive)
    assert not result.rows("select url from captures where record_type != 'warcinfo' and url not like 'http%'")
    for path, target in redirects.items():
        scheme = target.split(":")[0]
        line = f"Not fetched (redirect to {scheme}: URL, only http and https are downloaded: "
        assert any(line in entry and entry.endswith(server.url(path)) for entry in result.log.splitlines()), \
            (path, result.log[-3000:])


def test_scrapy_download_handlers_other_than_http_are_off():
    from scrapy.settings import Settings

    from archiver import settings

    project = Settings()
    project.setmodule(settings)
    # Scrapy's DownloadHandlers loads a scheme's handler unless it is None here.
    handlers = project.getwithbase("DOWNLOAD_HANDLERS")
    assert {scheme for scheme, handler in handlers.items() if handler} == {"http", "https"}, dict(handlers)


@pytest.mark.parametrize("url", ["file:///etc/hostname", "ftp://127.0.0.1/a.jpg", "data:text/plain,x",
                                 "s3://bucket/key"])
def test_the_scope_guard_refuses_every_scheme_but_http_before_download(url):
    import asyncio

    from scrapy.utils.test import get_crawler

    from archiver.crawl.middlewares import ScopeGuardMiddleware

    guard = ScopeGuardMiddleware.from_crawler(get_crawler())
    with pytest.raises(IgnoreRequest, match="only http and https are downloaded"):
        asyncio.run(guard.process_request(Request(url)))


# -- media scope ----------------------------------------------------------------------------------------------

def test_media_come_from_the_seeds_hosts_and_listed_hosts_only(tmp_path):
    """By default media come from the seeds' hosts (host and port); another port or another loopback address is
    out of scope, never requested, counted and logged once per host. Listed, another port of the seed's own
    address is fetched, but another loopback address or a link-local one still is not."""
    with HostileServer() as site, HostileServer() as other_port, HostileServer("127.0.0.2") as other_address:
        for server in (site, other_port, other_address):
            server.route("/upload/a.jpg", PICTURE, headers=JPEG)
            server.route("/upload/b.jpg", PICTURE + b"b", headers=JPEG)
        metadata = "http://169.254.169.254/latest/a.jpg"
        pictures = [site.url("/upload/a.jpg"), other_port.url("/upload/a.jpg"), other_address.url("/upload/a.jpg"),
                    metadata]
        seed = serve_site(site, {"/news/news_odkb/first/": ("Заседание Совета министров иностранных дел", pictures),
                                 "/news/news_odkb/second/": ("Встреча генеральных секретарей в Минске",
                                                             [other_port.url("/upload/b.jpg")])})
        default = run_crawl([seed], tmp_path / "default" / "archive.db")
        assert default.returncode == 0, default.log[-3000:]
        assert other_port.hits == [] and other_address.hits == [], (other_port.paths(), other_address.paths())
        images = stored_images(default)
        assert [src for src, sha in images.items() if sha] == [site.url("/upload/a.jpg")], images
        assert stat(default.log, "archiver/media/out_of_scope") == 4
        out_of_scope = [line for line in default.log.splitlines() if "Media out of scope (" in line]
        assert len(out_of_scope) == 3, out_of_scope  # once per host: the second article's image is only counted

        listed = ",".join([f"{other_port.host}:{other_port.port}", f"{other_address.host}:{other_address.port}",
                           "169.254.169.254"])
        wider = run_crawl([seed], tmp_path / "listed" / "archive.db", [f"MEDIA_HOSTS={listed}"])
        assert wider.returncode == 0, wider.log[-3000:]
        fetched = {src for src, sha in stored_images(wider).items() if sha}
        assert fetched == {site.url("/upload/a.jpg"), other_port.url("/upload/a.jpg"),
                           other_port.url("/upload/b.jpg")}, wider.log[-3000:]
        assert other_address.hits == []
        assert any(f"Media out of scope (loopback address), not fetched: {other_address.url('/upload/a.jpg')}"
                   in line for line in wider.log.splitlines()), wider.log[-3000:]
        assert any(f"Media out of scope (link-local address), not fetched: {metadata}" in line
                   for line in wider.log.splitlines()), wider.log[-3000:]


def profile_with_media_hosts(path: Path, hosts: list[str]) -> Path:
    """The csto profile, with ``media_hosts``."""
    text = (Path(__file__).parents[2] / "archiver" / "profiles" / "csto.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^media_hosts = .*\n", "", text)
    text = text.replace('name = "csto"\n', f'name = "csto"\nmedia_hosts = {hosts!r}\n'.replace("'", '"'))
    path.write_text(text, encoding="utf-8")
    return path


def test_robots_txt_is_obeyed_on_every_media_host(tmp_path):
    """A media host the profile lists (on 127.0.0.2, allowed by MEDIA_ALLOW_PRIVATE_ADDRESSES) whose robots.txt
    says ``Disallow: /``: its robots.txt is read and its image not fetched; another listed host serves its own."""
    with HostileServer() as site, HostileServer("127.0.0.2") as closed, HostileServer("127.0.0.2") as open_host:
        closed.route("/robots.txt", "User-agent: *\nDisallow: /\n", headers={"Content-Type": "text/plain"})
        for server in (closed, open_host):
            server.route("/upload/a.jpg", PICTURE + server.url().encode(), headers=JPEG)
        seed = serve_site(site, {"/news/news_odkb/first/": ("Заседание Совета министров иностранных дел",
                                                            [closed.url("/upload/a.jpg"),
                                                             open_host.url("/upload/a.jpg")])})
        profile = profile_with_media_hosts(tmp_path / "site.toml", [f"127.0.0.2:{closed.port}",
                                                                    f"127.0.0.2:{open_host.port}"])
        result = run_crawl([seed], tmp_path / "archive.db", ["MEDIA_ALLOW_PRIVATE_ADDRESSES=1"],
                           args=["-a", f"profile={profile}"])
    assert result.returncode == 0, result.log[-3000:]
    assert closed.paths() == ["/robots.txt"], closed.paths()
    assert open_host.paths() == ["/robots.txt", "/upload/a.jpg"], open_host.paths()
    fetched = {src for src, sha in stored_images(result).items() if sha}
    assert fetched == {open_host.url("/upload/a.jpg")}, result.log[-3000:]
    assert f"Media not fetched (Forbidden by robots.txt): {closed.url('/upload/a.jpg')}" in result.log


# -- redirects ------------------------------------------------------------------------------------------------

def test_redirects_stay_on_a_seeds_host_and_port(tmp_path):
    """A page redirected (HTTP or meta refresh) to the seed's host on another port, and an image redirected to
    another host: not followed, one line each; the other server is never asked."""
    with HostileServer() as site, HostileServer() as other_port:
        moved, refreshed = "/news/news_odkb/moved/", "/news/news_odkb/refreshed/"
        for path in (moved, refreshed):
            other_port.page(path, article("Учения коллективных сил в Таджикистане"))
        other_port.route("/upload/a.jpg", PICTURE, headers=JPEG)
        seed = serve_site(site, {"/news/news_odkb/first/": ("Заседание Совета министров иностранных дел",
                                                            [site.url("/upload/a.jpg")])})
        site.page("/news/news_odkb/", listing({"/news/news_odkb/first/": "Заседание Совета министров",
                                               moved: "Учения коллективных сил", refreshed: "Учения в Таджикистане"}))
        site.route(moved, status=301, headers={"Location": other_port.url(moved)})
        site.page(refreshed, f'<html><head><meta http-equiv="refresh" content="0; url={other_port.url(refreshed)}">'
                             f"</head><body>Moved</body></html>")
        site.route("/upload/a.jpg", status=302, headers={"Location": other_port.url("/upload/a.jpg")})
        result = run_crawl([seed], tmp_path / "archive.db")
    assert result.returncode == 0, result.log[-3000:]
    assert other_port.hits == [], other_port.paths()
    urls = {row["url"] for row in result.rows("select url from articles")}
    assert urls == {site.url("/news/news_odkb/first/")}, urls
    lines = result.log.splitlines()
    assert sum(f"Not fetched (redirect to a host or port no seed has: {other_port.url(moved)}): {site.url(moved)}"
               in line for line in lines) == 1, result.log[-3000:]
    assert sum(f"Not fetched (redirect to a host or port no seed has, from {site.url(refreshed)}): "
               f"{other_port.url(refreshed)}" in line for line in lines) == 1, result.log[-3000:]
    assert sum(f"Media not fetched (redirect to media out of scope (not a seed's host nor a listed media host): "
               f"{other_port.url('/upload/a.jpg')}): {site.url('/upload/a.jpg')}" in line for line in lines) == 1, \
        result.log[-3000:]
