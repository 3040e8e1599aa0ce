"""What the replica publishes besides its pages: robots.txt ``Sitemap:`` lines, a Bitrix-style sitemap index with
one sitemap a section (the first section's gzipped) and one of the articles no listing shows, and an RSS feed a
language; and, when the server is told to be hostile, a sitemap index that loops and a 20 MB sitemap.

    /robots.txt                       Sitemap: <base>/sitemap.xml (+ the hostile ones)
    /sitemap.xml                      index: /sitemap-iblock-<section>.xml (the first: .xml.gz), /sitemap-iblock-archive.xml
    /sitemap-iblock-<section>.xml     the section's articles, <lastmod> their Last-Modified
    /sitemap-iblock-archive.xml       the articles only the sitemap shows (role "sitemap_only")
    /sitemap-files.xml                the static pages (/, /about/...): outside a crawl's paths
    /rss/                             RSS 2.0: the language's 20 newest articles
    /sitemap-loop.xml                 (hostile) an index listing itself and /sitemap-loop-2.xml, which lists it back
    /sitemap-huge.xml                 (hostile) a urlset of HUGE_SITEMAP_BYTES, generated as it is sent
    /sitemap-broken.xml               (hostile) a "not found" HTML page answered with 200
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
from xml.sax.saxutils import escape

from .content import SECTION_SLUGS, ReplicaSite
from .model import Article

ONLY_IN_SITEMAP = "sitemap_only"  # the role of articles no listing shows
FEED_ITEMS = 20
HUGE_SITEMAP_BYTES = 20 * 1024 * 1024
HOSTILE_SITEMAPS = ("/sitemap-loop.xml", "/sitemap-huge.xml", "/sitemap-broken.xml")
XML = "application/xml; charset=UTF-8"
STATIC = ("/", "/about/", "/authorized_organs/", "/documents/", "/contacts/")  # the server's static pages
STATIC_LASTMOD = "2026-01-15T09:00:00+00:00"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def robots_lines(base: str, hostile: bool) -> str:
    paths = ("/sitemap.xml", *(HOSTILE_SITEMAPS if hostile else ()))
    return "".join(f"Sitemap: {base}{path}\n" for path in paths)


def lastmod(art: Article) -> str:
    return dt.datetime.fromtimestamp(art.modified, dt.timezone.utc).replace(microsecond=0).isoformat()


def gzipped_section() -> str:
    return SECTION_SLUGS[0]


def section_file(section: str) -> str:
    return f"/sitemap-iblock-{section}.xml" + (".gz" if section == gzipped_section() else "")


def sitemap_index(site: ReplicaSite, lang: str, base: str) -> str:
    sections = [s for s in SECTION_SLUGS if any(s == a.sections[0] for a in listed(site, lang))]
    entries = [(base + section_file(s), max(lastmod(a) for a in listed(site, lang) if a.sections[0] == s))
               for s in sections]
    hidden = [a for a in site.articles(lang) if a.role == ONLY_IN_SITEMAP]
    if hidden:
        entries.append((base + "/sitemap-iblock-archive.xml", max(lastmod(a) for a in hidden)))
    entries.append((base + "/sitemap-files.xml", STATIC_LASTMOD))
    return index_xml(entries)


def index_xml(entries) -> str:
    body = "".join(f"<sitemap><loc>{escape(loc)}</loc><lastmod>{mod}</lastmod></sitemap>\n" for loc, mod in entries)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex {NS}>\n{body}</sitemapindex>\n'


def urlset_xml(base: str, articles) -> str:
    body = "".join(f"<url><loc>{escape(base + a.path)}</loc><lastmod>{lastmod(a)}</lastmod></url>\n"
                   for a in articles)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {NS}>\n{body}</urlset>\n'


def listed(site: ReplicaSite, lang: str) -> list[Article]:
    return [a for a in site.articles(lang) if a.role != ONLY_IN_SITEMAP]


def route(site: ReplicaSite, lang: str, base: str, path: str, hostile: bool):
    """(status, body bytes, content type) of a sitemap or feed path, or None when ``path`` is none of them."""
    if path == "/sitemap.xml":
        return 200, sitemap_index(site, lang, base).encode(), XML
    if path == "/sitemap-files.xml":
        body = "".join(f"<url><loc>{base}{page}</loc><lastmod>{STATIC_LASTMOD}</lastmod></url>\n" for page in STATIC)
        return 200, f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {NS}>\n{body}</urlset>\n'.encode(), XML
    if path == "/sitemap-iblock-archive.xml":
        return 200, urlset_xml(base, [a for a in site.articles(lang) if a.role == ONLY_IN_SITEMAP]).encode(), XML
    for section in SECTION_SLUGS:
        if path == section_file(section):
            xml = urlset_xml(base, [a for a in listed(site, lang) if a.sections[0] == section]).encode()
            return (200, gzip.compress(xml), "application/x-gzip") if path.endswith(".gz") else (200, xml, XML)
    if path == "/rss/":
        return 200, rss(site, lang, base).encode(), "application/rss+xml; charset=UTF-8"
    if hostile and path in ("/sitemap-loop.xml", "/sitemap-loop-2.xml"):
        other = "/sitemap-loop-2.xml" if path == "/sitemap-loop.xml" else "/sitemap-loop.xml"
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        return 200, index_xml([(base + path, now), (base + other, now)]).encode(), XML
    if hostile and path == "/sitemap-broken.xml":
        return 200, b"<html><body><h1>Page not found</h1></body></html>", "text/html; charset=UTF-8"
    return None


def huge_sitemap(base: str, size: int = HUGE_SITEMAP_BYTES):
    """(length, chunks) of a urlset of about ``size`` bytes, generated as it is sent."""
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {NS}>\n'.encode()
    line, tail = f"<url><loc>{base}/news/news_odkb/generated-%09d/</loc></url>\n", b"</urlset>\n"
    per_chunk = 1000
    chunk_count = -(-size // (len(line % 0) * per_chunk))

    def chunks():
        yield head
        for n in range(chunk_count):
            yield "".join(line % (n * per_chunk + i) for i in range(per_chunk)).encode()
        yield tail

    return len(head) + chunk_count * per_chunk * len(line % 0) + len(tail), chunks()


def rss(site: ReplicaSite, lang: str, base: str) -> str:
    items = "".join(
        f"<item><title>{escape(a.shown_title)}</title><link>{escape(base + a.path)}</link>"
        f"<guid>{escape(base + a.path)}</guid>"
        f"<pubDate>{email.utils.formatdate(modified_or_published(a), usegmt=True)}</pubDate></item>\n"
        for a in listed(site, lang)[:FEED_ITEMS])
    title = "CSTO News" if lang == "en" else "Новости ОДКБ"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>{title}</title>'
            f"<link>{base}/news/</link><description>{title}</description>\n{items}</channel></rss>\n")


def modified_or_published(art: Article) -> float:
    """An item's pubDate: the day it was published (noon UTC), as Bitrix's feed writes it."""
    day = art.published or art.order_date
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.timezone.utc).timestamp()
