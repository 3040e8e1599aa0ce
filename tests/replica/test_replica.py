"""The offline CSTO replica: every page and nastiness over real HTTP, and ground truth consistent with the HTML."""

import datetime as dt
import gzip
import http.client
import json
import re
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from urllib.parse import urljoin

import lxml.html
import pytest
from w3lib.url import safe_url_string

from archiver.replica import ReplicaSite, serve_replica
from archiver.replica.content import TRAPS
from archiver.replica.texts import MONTHS_GENITIVE


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def fetch(url, headers=None, timeout=10.0):
    """(status, headers, body) without following redirects or raising on errors."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def get_ok(url):
    """Fetch like a patient crawler: retry 503s."""
    for _ in range(5):
        status, headers, body = fetch(url)
        if status != 503:
            return status, headers, body
    return status, headers, body


def serving(flavour: str):
    """A replica of the given flavour, served for the test module."""
    site = ReplicaSite(articles_per_language=60, seed=1, flavour=flavour)
    with serve_replica(site, port=0, slow_seconds=1.0, huge_page_bytes=2_000_000) as srv:
        yield srv


@pytest.fixture(scope="module")
def server():
    yield from serving("classic")


@pytest.fixture(scope="module")
def truth(server):
    return server.site.ground_truth(server.base_urls)


def by_role(truth, role, lang="en"):
    return next(r for r in truth if r["role"] == role and r["language"] == lang)


def clean(text):
    return " ".join(unicodedata.normalize("NFC", text).replace("\u00a0", " ").split())


# ----------------------------------------------------------------------------- a reference extractor
BLOCKS = {"p", "div", "figure", "table", "tr", "li", "ul", "blockquote", "h2", "h3"}


def extract(body, url):
    """A careful extractor built on the Bitrix markup; proves the ground truth is recoverable from the HTML."""
    doc = lxml.html.document_fromstring(body)
    det = doc.xpath('//div[contains(concat(" ", @class, " "), " news-detail ")]')[0]
    date = det.xpath('.//span[@class="news-date-time"]')
    out = {"title": clean(det.xpath(".//h1")[0].text_content()),
           "date": date[0].text_content().strip() if date else None, "images": [], "captions": []}
    for img in det.xpath(".//img"):
        if img.xpath('ancestor::div[@class="news-detail-share"]'):
            continue
        cap = None
        parent = img.getparent()
        if parent.tag == "figure":
            cap = clean(parent.xpath("figcaption")[0].text_content())
        elif parent.tag == "p" and parent.getnext() is not None and parent.getnext().get("class") == "photo-caption":
            cap = clean(parent.getnext().text_content())
        out["images"].append({"src": safe_url_string(urljoin(url, img.get("src"))), "alt": clean(img.get("alt")),
                              "caption": cap})
        if cap:
            out["captions"].append(cap)
    drop = ('.//h1 | .//span[@class="news-date-time"] | .//div[@class="news-detail-share"] | .//table'
            ' | .//a[@class="news-detail-print"] | .//div[@class="news-detail-back"] | .//p[@class="photo-caption"]'
            ' | .//figcaption')
    for el in det.xpath(drop):
        el.drop_tree()
    parts = []

    def walk(el):
        tag = el.tag if isinstance(el.tag, str) else ""
        parts.append("\x01" if tag in BLOCKS else "\x00" if tag == "br" else "")
        if el.text and tag:
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        parts.append("\x01" if tag in BLOCKS else "")
    walk(det)
    chunks = re.split(r"\x01|\x00\s*\x00", "".join(parts))
    out["paragraphs"] = [c for c in (clean(x.replace("\x00", " ")) for x in chunks) if c]
    return out


def parse_date(text):
    m = re.fullmatch(r"(\d\d)\.(\d\d)\.(\d{4})", text)
    if m:
        return dt.date(int(m[3]), int(m[2]), int(m[1])).isoformat()
    m = re.fullmatch(r"(\d+) (\w+) (\d{4}) г\.", text)
    return dt.date(int(m[3]), MONTHS_GENITIVE.index(m[2]) + 1, int(m[1])).isoformat()


# ------------------------------------------------------------------------------------------- tests
def test_seeds_and_languages(server):
    assert server.base_urls["en"].startswith("http://127.0.0.1:")
    assert server.base_urls["ru"] == server.base_urls["en"].replace("127.0.0.1", "127.0.0.2")
    for seed, lang in zip(server.seeds, ("en", "ru")):
        status, headers, body = fetch(seed)
        assert status == 200 and f'<html lang="{lang}">' in body.decode()
        assert seed.endswith("/news/")


def test_every_ground_truth_article_matches_its_page(server, truth):
    assert len(truth) == 120
    for rec in truth:
        status, headers, body = get_ok(rec["url"])
        assert status == 200, rec["url"]
        got = extract(body, rec["url"])
        assert got["title"] == rec["title"]
        assert got["paragraphs"] == rec["paragraphs"], rec["url"]
        assert got["images"] == rec["images"]
        assert got["captions"] == rec["captions"]
        assert (parse_date(got["date"]) if got["date"] else None) == rec["published"]
        text = "\n".join(got["paragraphs"])
        assert not any(line in text for line in rec["boilerplate"])
        assert rec["section_url"] == server.base_urls[rec["language"]] + f"/news/{rec['section']}/"


def test_ground_truth_is_tricky_where_promised(server, truth):
    published = [dt.date.fromisoformat(r["published"]) for r in truth if r["published"]]
    assert any(d.day <= 12 and d.day != d.month for d in published)  # month-first parsers must fail
    assert len({r["published"] for r in truth if r["language"] == "en" and r["published"]}) == 60 - 1  # distinct
    assert by_role(truth, "undated")["published"] is None
    real = [r for r in truth if r["language"] == "en" and r["published"] in ("2020-07-03", "2020-02-12")]
    assert len(real) == 2 and any("Kunakbaev" in img["src"] or "%D0%9A" in img["src"] for r in real
                                  for img in r["images"])
    assert any("The CSTO Press Secretary Vladimir Zaynetdinov" in r["paragraphs"] for r in truth)
    assert by_role(truth, "table")["tables"]
    assert any(r["section"] == "military_cooperation" for r in truth)
    # og:title is shortened for long titles
    rec = next(r for r in truth if len(r["title"]) > 70)
    body = fetch(rec["url"])[2].decode()
    og = re.search(r'property="og:title" content="([^"]*)"', body)[1]
    assert og.endswith("…") and og != rec["title"]


def test_nfd_cp1251_and_genitive_dates(server, truth):
    nfd = by_role(truth, "nfd", "ru")
    raw = fetch(nfd["url"])[2].decode()
    assert unicodedata.normalize("NFD", nfd["title"]) in raw and nfd["title"] not in raw
    cp = by_role(truth, "cp1251", "ru")
    status, headers, body = fetch(cp["url"])
    assert headers["Content-Type"] == "text/html"
    assert b'charset=windows-1251' in body
    assert cp["title"].encode("cp1251") in body
    assert any(re.search(r'news-date-time">\d+ (%s) \d{4} г\.' % "|".join(MONTHS_GENITIVE),
                         fetch(r["url"])[2].decode("utf-8", "replace")) for r in truth if r["language"] == "ru")


def test_pagination_and_hidden_section(server):
    base = server.base_urls["en"]
    first = fetch(base + "/news/")[2].decode()
    last_no = int(re.search(r'PAGEN_1=(\d+)" class="modern-page-last"', first)[1])
    assert 'href="/news/" class="modern-page-num"' not in first  # we are on page 1
    last = fetch(f"{base}/news/?PAGEN_1={last_no}")[2]
    status, _, beyond = fetch(base + "/news/?PAGEN_1=999")
    assert status == 200 and beyond == last
    page3 = fetch(base + "/news/?PAGEN_1=3")[2].decode()
    assert 'href="/news/" class="modern-page-first"' in page3 and 'modern-page-previous">Prev' in page3
    assert 'modern-page-next">Next' in page3
    ru = fetch(server.base_urls["ru"] + "/news/?PAGEN_1=2")[2].decode()
    assert "Пред." in ru and "След." in ru
    assert len(re.findall(r'class="modern-page-(?:num|current)"', page3)) <= 5
    listing_pages = [fetch(f"{base}/news/?PAGEN_1={n}")[2].decode() for n in range(1, last_no + 1)]
    assert all("/news/military_cooperation/\"" not in p.split('class="news-list"')[0] for p in listing_pages)
    assert any("/news/military_cooperation/" in p for p in listing_pages)  # its articles are in all news
    assert fetch(base + "/news/military_cooperation/")[0] == 200


def test_error_statuses_and_soft_404(server):
    base = server.base_urls["en"]
    assert fetch(base + TRAPS["not_found"][0])[0] == 404
    assert fetch(base + TRAPS["gone"][0])[0] == 410
    status, _, body = fetch(base + TRAPS["soft_404"][0])
    assert status == 200 and "Element not found" in body.decode() and "news-date-time" not in body.decode()
    assert "Элемент не найден" in fetch(server.base_urls["ru"] + TRAPS["soft_404"][0])[2].decode()
    assert [fetch(base + TRAPS["error_500"][0])[0] for _ in range(3)] == [500, 500, 500]
    status, headers, body = fetch(base + TRAPS["empty"][0])
    assert status == 200 and body == b"" and headers["Content-Type"].startswith("text/html")
    status, headers, body = fetch(base + TRAPS["binary"][0])
    assert status == 200 and body.startswith(b"\x89PNG") and headers["Content-Type"].startswith("text/html")
    status, headers, body = fetch(base + TRAPS["huge"][0], {"Accept-Encoding": "gzip"})
    assert status == 200 and int(headers["Content-Length"]) >= 2_000_000 == len(body) - (len(body) - 2_000_000)
    assert "Content-Encoding" not in headers
    for trap in ("not_found", "gone", "soft_404", "error_500", "empty", "binary", "huge", "closed", "loop"):
        assert TRAPS[trap][0] in fetch(base + "/news/")[2].decode() + fetch(base + "/news/?PAGEN_1=2")[2].decode() \
            + fetch(base + "/news/?PAGEN_1=3")[2].decode() + fetch(base + "/news/news_odkb/")[2].decode()


def test_flaky_and_slow_articles():
    site = ReplicaSite(40, seed=1)  # a fresh server: the counters are per server, host and path
    with serve_replica(site, port=0, slow_seconds=1.0, external_host=None) as srv:
        truth = site.ground_truth(srv.base_urls)
        flaky = by_role(truth, "flaky", "ru")
        assert [fetch(flaky["url"])[0] for _ in range(3)] == [503, 503, 200]
        assert fetch(by_role(truth, "flaky", "en")["url"])[0] == 503  # counted per host
        slow = by_role(truth, "slow", "ru")
        with pytest.raises(Exception):
            fetch(slow["url"], timeout=0.3)
        # Recorded on arrival: a crawl that ends before the delayed answer still owns its request.
        delayed = [hit for hit in srv.hits if slow["url"].endswith(hit["path"])]
        assert [hit["status"] for hit in delayed] == [None]
        time.sleep(0.8)
        assert delayed[0]["status"] == 200
        started = time.monotonic()
        assert fetch(slow["url"], timeout=5)[0] == 200 and time.monotonic() - started < 0.5


def test_redirects(server, truth):
    base = server.base_urls["en"]
    target = by_role(truth, "redirect_target")
    old = re.search(r'href="(/news/old/\d+/)"', fetch(base + "/news/")[2].decode())[1]
    status, headers, _ = fetch(base + old)
    assert status == 301 and headers["Location"].startswith("/news/redirect/?to=")
    status, headers, _ = fetch(base + headers["Location"])
    assert status == 302 and base + headers["Location"] == target["url"]
    assert fetch(base + "/news/loop-a/")[1]["Location"] == "/news/loop-b/"
    assert fetch(base + "/news/loop-b/")[1]["Location"] == "/news/loop-a/"
    no_slash = by_role(truth, "no_slash")
    status, headers, _ = fetch(no_slash["url"].rstrip("/"))
    assert status == 301 and headers["Location"] == no_slash["url"][len(base):]


def test_url_variants_print_and_canonical(server, truth):
    listing = "".join(fetch(server.base_urls["en"] + f"/news/?PAGEN_1={n}")[2].decode() for n in (1, 2, 3, 4))
    for role, suffix in (("utm", "?utm_source=telegram&amp;utm_medium=social"), ("sphrase", "?sphrase_id=12345"),
                         ("index_php", "index.php"), ("fragment", "#photo")):
        rec = by_role(truth, role)
        path = rec["url"].split(":", 2)[2][rec["url"].split(":", 2)[2].index("/"):]
        assert f'href="{path}{suffix}"' in listing
        status, _, body = fetch(rec["url"] + suffix.replace("&amp;", "&").split("#")[0])
        assert status == 200 and extract(body, rec["url"])["title"] == rec["title"]
    two = by_role(truth, "two_sections")
    alt = two["url"].replace("/news_odkb/", "/parliamentary_assembly/")
    status, _, body = fetch(alt)
    assert status == 200 and f'<link rel="canonical" href="{two["url"]}">' in body.decode()
    status, _, body = fetch(two["url"] + "?print=Y")
    assert status == 200 and extract(body, two["url"])["paragraphs"] == two["paragraphs"]
    pdf = by_role(truth, "pdf")
    href = re.search(r'href="(/upload/docs/[^"]+)"', fetch(pdf["url"])[2].decode())[1]
    status, headers, body = fetch(safe_url_string(urljoin(pdf["url"], href)))
    assert status == 200 and headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF")


def test_conditional_gzip_robots_assets(server, truth):
    url = truth[3]["url"]
    status, headers, body = fetch(url)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert fetch(url, {"If-None-Match": etag})[0] == 304
    assert fetch(url, {"If-Modified-Since": modified})[0] == 304
    assert fetch(url, {"If-None-Match": '"other"'})[0] == 200
    assert fetch(server.seeds[0], {"If-None-Match": fetch(server.seeds[0])[1]["ETag"]})[0] == 304
    status, headers, zipped = fetch(url, {"Accept-Encoding": "gzip, deflate"})
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped) == body
    robots = fetch(server.base_urls["ru"] + "/robots.txt")[2].decode()
    assert all(f"Disallow: {p}" in robots for p in ("/search/", "/bitrix/", "/news/closed/"))
    assert fetch(server.base_urls["en"] + TRAPS["closed"][0])[0] == 200  # only robots.txt protects it
    img = truth[3]["images"][-1]["src"]
    status, headers, body = fetch(img)
    assert status == 200 and body.startswith(b"\xff\xd8") and body.endswith(b"\xff\xd9")
    assert fetch(server.base_urls["en"] + "/local/templates/csto/images/logo.png")[2].startswith(b"\x89PNG")


def test_a_burst_of_connections_is_answered_at_once(server):
    """As nginx does, the replica takes the connections a crawl opens at once: with socketserver's listen
    backlog of 5 the kernel dropped the rest, and each waited a second for TCP to retry its SYN."""
    host, port = server.base_urls["en"].removeprefix("http://").split(":")
    sockets = [socket.socket() for _ in range(120)]
    started = time.monotonic()
    try:
        for sock in sockets:  # all the handshakes at once, as a crawl's connection pool starts them
            sock.setblocking(False)
            sock.connect_ex((host, int(port)))
        for sock in sockets:
            sock.settimeout(5)
            sock.sendall(f"HEAD /robots.txt HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
        for sock in sockets:
            assert sock.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        for sock in sockets:
            sock.close()
    assert time.monotonic() - started < 0.9


def test_pages_on_a_kept_alive_connection_come_without_delay(server, truth):
    """As nginx does (`tcp_nodelay on`), the replica sends a page's body as soon as its head: with Nagle's
    algorithm on, the body waited for the client to acknowledge the head, which a client delays by 40 ms,
    so every request but the first on a kept-alive connection took 40 ms more."""
    host, port = server.base_urls["en"].removeprefix("http://").split(":")
    path = truth[0]["url"].split(port, 1)[1]
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        started = time.monotonic()
        for _ in range(20):
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.status == 200 and len(response.read()) > 1000
        assert time.monotonic() - started < 0.5  # 20 x 40 ms of delayed acknowledgements: 0.8 s
    finally:
        connection.close()


def test_offsite_links_and_external_host_hits(server, truth):
    body = fetch(truth[0]["url"])[2].decode()
    ext = server.external_url
    assert ext == server.base_urls["en"].replace("127.0.0.1", "127.0.0.3") and f'href="{ext}/partners/"' in body
    for needle in ('href="https://vk.com/', 'href="javascript:history.back()"', 'href="mailto:', 'href="tel:',
                   'href="?print=Y"', 'href="/news/"'):
        assert needle in body
    assert fetch(ext + "/partners/")[0] == 200
    assert any(h["host"] == ext[len("http://"):] and h["path"] == "/partners/" for h in server.hits)
    assert all({"host", "method", "path", "status"} <= set(h) for h in server.hits)
    listing = fetch(server.seeds[0])[2].decode()
    assert "/news/calendar/?date=" in listing and "arrFilter_DATE=" in listing and "/search/?q=" in listing


def test_calendar_never_runs_out(server):
    url = server.base_urls["en"] + "/news/calendar/?date=2020-07-05"
    seen = []
    for _ in range(40):
        status, _, body = fetch(url)
        assert status == 200
        seen.append(url)
        url = server.base_urls["en"] + re.search(r'href="(/news/calendar/\?date=[\d-]+)">Previous day', body.decode())[1]
    assert len(set(seen)) == 40
    assert "2020-07-03" in seen[2] and "Independence Day" in fetch(seen[2])[2].decode()


def test_excluded_urls_are_not_articles(server, truth):
    excluded = server.site.ground_truth_excluded(server.base_urls, server.external_url)
    urls = {r["url"] for r in truth}
    assert not urls & {e["url"] for e in excluded}
    for e in excluded:
        if e["reason"] in ("404", "410", "always 500", "redirect loop") or e["reason"].startswith("redirect"):
            assert fetch(e["url"])[0] != 200, e


def test_ground_truth_deterministic():
    base = {"en": "http://127.0.0.1:1", "ru": "http://127.0.0.2:1"}
    assert ReplicaSite(60, seed=1).ground_truth(base) == ReplicaSite(60, seed=1).ground_truth(base)
    assert ReplicaSite(60, seed=1).ground_truth(base) != ReplicaSite(60, seed=2).ground_truth(base)


def test_big_site_is_lazy_and_cheap():
    started = time.monotonic()
    site = ReplicaSite(articles_per_language=20000, seed=3)
    with serve_replica(site, port=0, external_host=None) as srv:
        status, _, body = fetch(srv.base_urls["ru"] + "/news/?PAGEN_1=1500")
        assert status == 200 and body.decode().count('class="news-item"') == 10
        path = re.search(r'news-item__title" href="([^"]+)"', body.decode())[1]
        assert fetch(srv.base_urls["ru"] + path.split("?")[0].split("#")[0])[0] in (200, 301)
    assert time.monotonic() - started < 3.0


def test_mutations():
    site = ReplicaSite(40, seed=5)
    with serve_replica(site, port=0, external_host=None) as srv:
        key = site.add_article(language="en", section="news_secretariat")
        new = next(r for r in site.ground_truth(srv.base_urls) if r["url"].endswith(key.split(":", 1)[1]))
        assert new["published"] > max(r["published"] or "" for r in site.ground_truth(srv.base_urls)
                                      if r is not new and r["url"] != new["url"])
        first = fetch(srv.base_urls["en"] + "/news/news_secretariat/")[2].decode()
        assert first.index(key.split(":", 1)[1]) < first.index("news-item__title", first.index("news-item__title") + 1)
        status, headers, _ = fetch(new["url"])
        site.edit_article(key)
        edited = next(r for r in site.ground_truth(srv.base_urls) if r["url"] == new["url"])
        assert edited["title"] != new["title"] and edited["paragraphs"] != new["paragraphs"]
        assert fetch(new["url"], {"If-None-Match": headers["ETag"]})[0] == 200
        assert extract(fetch(new["url"])[2], new["url"])["paragraphs"] == edited["paragraphs"]
        site.delete_article(key)
        assert fetch(new["url"])[0] == 404
        assert key.split(":", 1)[1] not in fetch(srv.seeds[0])[2].decode()
        assert new["url"] not in {r["url"] for r in site.ground_truth(srv.base_urls)}


def test_cli_groundtruth():
    out = subprocess.run([sys.executable, "-m", "archiver.replica", "groundtruth", "--port", "8123"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    data = json.loads(out)
    assert len(data) == 120 and data[0]["url"].startswith("http://127.0.0.1:8123/news/")
