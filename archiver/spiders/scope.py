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
