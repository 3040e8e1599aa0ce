"""The crawl's scope: which links the ``news`` spider may follow, which answers it reads, and where media may
come from (docs/security.md)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from scrapy.http import TextResponse

from ..extraction.pages import is_document_url

MAX_URL_LENGTH = 1000
MAX_PATH_SEGMENTS = 12
OUT_OF_SCOPE_KEPT = 100_000  # links found out of scope, remembered (a bound on memory)
# The only schemes ever downloaded (settings.DOWNLOAD_HANDLERS turns Scrapy's others off).
HTTP_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}


def out_of_scope(url: str, hosts: set[str], profile) -> str | None:
    """Why ``url`` is not followed, or None to follow it: ``scheme`` (neither http nor https), ``offsite`` (not
    on one of ``hosts``, ports included), ``document`` (a file, not a page), ``denied`` (by the site's profile)
    or ``trap`` (too long, too deep, or a path repeating itself, as calendars and broken relative links make)."""
    parts = urlsplit(url)
    if parts.scheme not in HTTP_SCHEMES:
        return "scheme"
    if parts.netloc not in hosts:
        return "offsite"
    if is_document_url(url):
        return "document"
    if not profile.is_allowed_path(url) or profile.is_denied(url):
        return "denied"
    segments = [s for s in parts.path.split("/") if s]
    if len(url) > MAX_URL_LENGTH or len(segments) > MAX_PATH_SEGMENTS or \
            any(segments.count(s) > 2 for s in segments):
        return "trap"
    return None


class OutOfScope:
    """The links found out of scope, and why: menus and sidebars repeat the same links on every page, each
    judged once (a link in scope is not remembered: the crawl schedules it at once)."""

    def __init__(self):
        self.reasons: dict[str, str] = {}

    def judge(self, url: str, reason_for) -> str | None:
        """Why ``url`` is out of scope, as remembered or as ``reason_for(url)`` says; None when it is in scope."""
        reason = self.reasons.get(url)
        if reason is None:
            reason = reason_for(url)
            if reason is not None:
                if len(self.reasons) >= OUT_OF_SCOPE_KEPT:
                    self.reasons.clear()
                self.reasons[url] = reason
        return reason


def is_html(response) -> bool:
    """An answer the spider reads: text, and HTML by its Content-Type (or with none)."""
    content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
    return isinstance(response, TextResponse) and (not content_type or "html" in content_type)


# -- bounds on link spaces (docs/crawling.md, "Bounded link spaces") ---------------------------------------------

# A page's links judged (scope, news) for each one it may lead to: a page of a hundred thousand links costs the
# crawl's process no more than one of ten thousand.
JUDGED_PER_FOLLOWED = 10


class LinkBounds:
    """How far a run goes, whatever a site's pages link: from one page, its first ``per_page`` links that are new
    to the run and in scope (in the page's order; and no more than ``JUDGED_PER_FOLLOWED`` times as many judged),
    at most ``per_depth`` URLs no earlier run met scheduled at one link depth, none deeper than ``depth_limit``,
    and no new article-like URL followed from a page that ends a chain of more than ``undated_limit`` article-like
    pages without a date (an endless tree of "articles" that only lead to more of them; real articles are dated,
    and so are the listings that show them). A link left out is not marked as scheduled: another page may still
    lead to it. Each bound counts what it leaves in an ``archiver/links/*`` stat, and says so in the log once (a
    page, a depth, a run). 0 turns a bound off."""

    def __init__(self, crawler, logger, per_page: int = 0, per_depth: int = 0, undated_limit: int = 0,
                 depth_limit: int = 0):
        self.crawler, self.logger = crawler, logger
        self.per_page, self.per_depth, self.undated_limit, self.depth_limit = \
            per_page, per_depth, undated_limit, depth_limit
        self.new_at_depth: dict[int, int] = {}
        self.trap_logged = False

    @classmethod
    def from_settings(cls, settings, crawler, logger) -> "LinkBounds":
        return cls(crawler, logger, settings.getint("MAX_LINKS_PER_PAGE"), settings.getint("MAX_NEW_URLS_PER_DEPTH"),
                   settings.getint("UNDATED_CHAIN_LIMIT"), settings.getint("DEPTH_LIMIT"))

    @property
    def stats(self):  # the crawler's, once the crawl starts
        return self.crawler.stats

    @staticmethod
    def undated_chain(previous: int, page, article_like_url: bool) -> int:
        """Article-like pages without a date in a row, up to ``page`` (``previous``: before it). A page with a
        date, or a listing, ends a chain; a page at an article-like URL without one adds to it; any other page
        passes it on (a tree cannot escape by alternating with other URLs)."""
        if page.article.published or page.is_listing:
            return 0
        return previous + bool(article_like_url)

    def first_new_links(self, links: list, url: str, scheduled: set, out_of_scope) -> list:
        """The page's links not ``scheduled`` yet and in scope (``out_of_scope`` gives no reason not to follow
        them): the first ``per_page`` of them. The others are counted by reason, ``archiver/links/<reason>`` (a
        page's menus bring a dozen such links: one stats call a reason, not one a link)."""
        fresh, judged, rejected = [], 0, {}
        for index, link in enumerate(links):
            if link.url in scheduled:
                continue
            if self.per_page and (len(fresh) >= self.per_page or judged >= JUDGED_PER_FOLLOWED * self.per_page):
                self.stats.inc_value("archiver/links/capped", len(links) - index)
                self.logger.warning("Too many links on %s: %d new ones taken from its first %d, the other %d not "
                                    "looked at (MAX_LINKS_PER_PAGE=%d, counted in archiver/links/capped)",
                                    url, len(fresh), index, len(links) - index, self.per_page)
                break
            judged += 1
            reason = out_of_scope(link.url)
            if reason is None:
                fresh.append(link)
            else:
                rejected[reason] = rejected.get(reason, 0) + 1
        for reason, count in rejected.items():
            self.stats.inc_value(f"archiver/links/{reason}", count)
        return fresh

    def untrapped(self, links: list, chain: int, url: str, is_news) -> list:
        """``links`` (new to this run) but those to article-like URLs no earlier run met, past the chain limit."""
        if not self.undated_limit or chain <= self.undated_limit:
            return links
        kept = [link for link in links if not (link.looks_like_article and is_news(link.url))]
        if len(kept) < len(links):
            self.stats.inc_value("archiver/links/undated_chain", len(links) - len(kept))
            if not self.trap_logged:
                self.trap_logged = True
                self.logger.warning("Link trap: %d article-like pages without a date in a row lead to %s; the new "
                                    "article-like links of such pages are not followed (UNDATED_CHAIN_LIMIT=%d, "
                                    "counted in archiver/links/undated_chain)", chain, url, self.undated_limit)
        return kept

    def select(self, links: list, depth: int, is_news) -> list[tuple]:
        """The links to follow from a page at ``depth``, with their own depth (a listing's next page is not a
        level deeper): not too deep, and new URLs only while their depth has room."""
        chosen = []
        for link in links:
            link_depth = depth + (not link.is_pagination)
            if self.depth_limit and link_depth > self.depth_limit:
                self.stats.inc_value("archiver/links/too_deep")
                continue  # not marked as scheduled: a shorter path may still reach it
            if self.has_room(link.url, link_depth, is_news):
                self.stats.max_value("request_depth_max", link_depth)
                chosen.append((link, link_depth))
        return chosen

    def has_room(self, url: str, depth: int, is_news) -> bool:
        """May a URL be scheduled at ``depth``? Always one an earlier run met; a new one while fewer than
        ``per_depth`` new URLs were scheduled at that depth."""
        if not self.per_depth or not is_news(url):
            return True
        count = self.new_at_depth.get(depth, 0)
        if count < self.per_depth:
            self.new_at_depth[depth] = count + 1
            return True
        self.stats.inc_value("archiver/links/depth_capped")
        if count == self.per_depth:  # said once a depth
            self.new_at_depth[depth] = count + 1
            self.logger.warning("%d new URLs scheduled at link depth %d: no more at that depth this run "
                                "(MAX_NEW_URLS_PER_DEPTH, counted in archiver/links/depth_capped)", count, depth)
        return False


# -- hosts and addresses: where media come from ----------------------------------------------------------------

HostKey = tuple[str, int | None]


def host_key(url: str) -> HostKey | None:
    """(host name, port) of an http(s) URL, the scheme's default port as None (``http://h/`` and ``https://h/``
    are one host); None for a URL without a host or with a port out of range."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname, None if port == DEFAULT_PORTS.get(parts.scheme) else port


def listed_host(entry: str) -> HostKey | None:
    """A host as a profile or a setting lists it: ``cdn.example.org`` (default ports) or ``host:port``."""
    return host_key(entry if "//" in entry else f"http://{entry.strip()}/")


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host name is written as (``127.0.0.2``, ``::1``), else None."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def address_kind(address) -> str | None:
    """Why an address is not fetched from by default (``loopback``, ``private``...), None for a public one."""
    for kind in ("loopback", "link_local", "multicast", "private", "unspecified", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-global"


class MediaScope:
    """Where media (images, documents) are fetched from: the seeds' hosts (host and port), the hosts the
    profile (``media_hosts``) and ``MEDIA_HOSTS`` list (``*``: any), over http or https; and, unless
    ``MEDIA_ALLOW_PRIVATE_ADDRESSES``, never from a loopback, private, link-local or multicast address other
    than a seed's own. Literal addresses are checked as written; a listed name is resolved once, and refused
    when one of its addresses is such."""

    def __init__(self, seeds, media_hosts=(), allow_private: bool = False):
        self.seed_hosts = {key for key in map(host_key, seeds) if key}
        self.any_host = "*" in media_hosts
        self.listed = {listed_host(entry) for entry in media_hosts if entry != "*"} - {None}
        self.allow_private = allow_private
        self.seed_names = {host for host, _ in self.seed_hosts if literal_address(host) is None}
        self.seed_addresses = {literal_address(host) for host, _ in self.seed_hosts} - {None}
        self.resolved: dict[str, set] = {}  # host name -> its addresses, looked up once (empty: none found)

    @classmethod
    def for_crawl(cls, spider, settings) -> "MediaScope":
        profile = getattr(spider, "profile", None)
        hosts = [*getattr(profile, "media_hosts", ()), *settings.getlist("MEDIA_HOSTS")]
        return cls(getattr(spider, "seeds", ()), hosts, settings.getbool("MEDIA_ALLOW_PRIVATE_ADDRESSES"))

    def refusal(self, url: str) -> str | None:
        """Why ``url`` is not fetched as media, by what it says: its scheme, host and port, literal address."""
        scheme = urlsplit(url).scheme
        if scheme not in HTTP_SCHEMES:
            return f"{scheme or 'no'} scheme, only http and https are downloaded"
        key = host_key(url)
        if key is None:
            return "no host"
        if key in self.seed_hosts:
            return None
        if not (self.any_host or key in self.listed):
            return "not a seed's host nor a listed media host"
        address = literal_address(key[0])
        if address is not None and not self.allow_private and address not in self.seed_addresses:
            kind = address_kind(address)
            return f"{kind} address" if kind else None
        return None

    async def full_refusal(self, url: str) -> str | None:
        """:meth:`refusal`, then the addresses a listed host name resolves to."""
        reason = self.refusal(url)
        host, port = host_key(url) or ("", None)
        if reason or self.allow_private or not host or literal_address(host) is not None or \
                (host, port) in self.seed_hosts:
            return reason
        forbidden = {address for address in await self.addresses(host) if address_kind(address)}
        if forbidden:  # a seed's own address is fine (a site whose images sit on a name of its own)
            for name in self.seed_names:
                forbidden -= await self.addresses(name)
            forbidden -= self.seed_addresses
        return f"{address_kind(min(forbidden, key=str))} address ({host} resolves to it)" if forbidden else None

    async def addresses(self, host: str) -> set:
        """The addresses ``host`` resolves to, once per run; none when it does not resolve (its download
        then fails and says why)."""
        if host not in self.resolved:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except OSError:
                infos = []
            self.resolved[host] = {literal_address(info[4][0].split("%")[0]) for info in infos} - {None}
        return self.resolved[host]
