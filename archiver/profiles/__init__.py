"""Declarative site profiles.

A profile is a TOML file (see ``csto.toml``) holding everything the crawler
knows about one site: seeds, URL patterns, selectors, date formats, the
link texts of its navigation and the marks of its pager. The spider and the
extractor read it; neither contains site knowledge of its own, only generic
rules that a profile adds to. A second site is a second TOML file, loaded
with ``load_profile("path/to/site.toml")`` or ``-a profile=...``.

Keys (each is described in ``csto.toml``):

- ``hubs``: pages read on every run for their links, never archived, as
  the root page of every seed host is (a press centre, an announcements
  page: where sections outside the seeds' listings are linked from).
- ``media_hosts``: hosts besides the seeds' that the site's images and
  documents are fetched from (a CDN): ``"cdn.example.org"`` or
  ``"host:port"`` (docs/security.md).
- ``[urls]``: ``allow``, ``deny``, ``article``, ``section`` (patterns);
  ``pagination_params`` (query parameters selecting a listing's page);
  ``drop_params`` (query parameters that never change the page, added to the
  tracking parameters every site drops, ``normalize.TRACKING_PARAMS``);
  ``add_trailing_slash``; ``directory_index`` (file names folded into their
  directory, replacing the usual ``DIRECTORY_INDEX``).
- ``[article]``: ``container``, ``title``, ``date``, ``remove`` (CSS
  selectors), ``date_formats``, ``dayfirst``.
- ``[discovery]``: ``sitemaps`` (read the seed hosts' robots.txt ``Sitemap:``
  lines and ``/sitemap.xml``), ``feeds`` (read feeds), ``feed_urls`` (feeds
  read besides those the seed pages link: paths on every seed host, or
  URLs); docs/crawling.md.
- ``[links]``: ``back``, ``back_to_section``, ``back_to_all_news``,
  ``boilerplate`` (link texts and lines that are navigation); ``pager_marks``
  (class or id marks of the site's pager blocks, added to the generic ones:
  ``pages.PAGER_MARKS`` and ``htmltree.CHROME_TOKENS``).
"""

from __future__ import annotations

import re
import tomllib
from functools import cached_property, lru_cache
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROFILE_DIR = Path(__file__).parent
# URL rules -> a small key, and key -> a profile holding them (see SiteProfile.url_rules).
_RULE_KEYS: dict[tuple, int] = {}
_RULES: dict[int, "SiteProfile"] = {}


# The usual directory index files of web servers: ``/path/index.php`` is ``/path/``. A profile's
# ``directory_index`` replaces them.
DIRECTORY_INDEX = ("index.php", "index.html", "index.htm")


def _compile(patterns) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p) for p in patterns)


def fold_text(text: str) -> str:
    """Case- and whitespace-insensitive form of a link text."""
    return " ".join(text.split()).casefold().strip(" .:«»\"'<>←→-–—")


@dataclass(frozen=True)
class SiteProfile:
    """What the crawler knows about one site. Empty lists mean "no knowledge"."""

    name: str = "generic"
    description: str = ""
    start_urls: tuple[str, ...] = ()
    media_hosts: tuple[str, ...] = ()  # hosts besides the seeds' that media are fetched from
    hubs: tuple[str, ...] = ()  # pages read for their links on every run, never archived (with the seed hosts' roots)
    languages: dict = field(default_factory=dict)
    allow: tuple[re.Pattern, ...] = ()
    deny: tuple[re.Pattern, ...] = ()
    article_url: re.Pattern | None = None
    section_url: re.Pattern | None = None
    pagination_params: tuple[re.Pattern, ...] = ()
    drop_params: tuple[re.Pattern, ...] = ()
    add_trailing_slash: bool = False
    directory_index: tuple[str, ...] = DIRECTORY_INDEX
    container_selectors: tuple[str, ...] = ()
    title_selectors: tuple[str, ...] = ()
    date_selectors: tuple[str, ...] = ()
    remove_selectors: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = ()
    dayfirst: bool = True
    back_texts: frozenset[str] = frozenset()
    section_link_texts: frozenset[str] = frozenset()
    all_news_link_texts: frozenset[str] = frozenset()
    boilerplate_texts: frozenset[str] = frozenset()
    pager_marks: tuple[str, ...] = ()  # lower-case regular expressions, searched in class and id tokens
    sitemaps: bool = True  # the seed hosts' sitemaps read on every run
    feeds: bool = True  # feeds (feed_urls and those the seed pages link) read on every run
    feed_urls: tuple[str, ...] = ()  # paths on every seed host, or URLs

    @cached_property
    def url_rules(self) -> int:
        """A key for the part of the profile that canonical URLs depend on, for their cache.
        A small int: hashing the rules themselves (compiled patterns) cost more than the lookup."""
        rules = (self.pagination_params, self.drop_params, self.add_trailing_slash, self.directory_index)
        key = _RULE_KEYS.setdefault(rules, len(_RULE_KEYS))
        _RULES.setdefault(key, self)
        return key

    @cached_property
    def navigation_texts(self) -> frozenset[str]:
        """Every folded link text that is navigation, never article text."""
        return self.back_texts | self.section_link_texts | self.all_news_link_texts | self.boilerplate_texts

    def language_for_host(self, host: str) -> str | None:
        return self.languages.get(host.lower())

    def is_pagination_param(self, name: str) -> bool:
        return any(p.search(name) for p in self.pagination_params)

    def is_dropped_param(self, name: str) -> bool:
        return any(p.search(name) for p in self.drop_params)

    def is_denied(self, url: str) -> bool:
        parts = urlsplit(url)
        target = parts.path + ("?" + parts.query if parts.query else "")
        return any(p.search(target) for p in self.deny)

    def is_allowed_path(self, url: str) -> bool:
        if not self.allow:
            return True
        path = urlsplit(url).path
        return any(p.search(path) for p in self.allow)

    def looks_like_article_url(self, url: str) -> bool:
        parts = urlsplit(url)
        if self.article_url is not None:
            return not parts.query and bool(self.article_url.search(parts.path))
        # Without knowledge: a path at least two segments deep and no query.
        return not parts.query and len([s for s in parts.path.split("/") if s]) >= 2


GENERIC = SiteProfile()


def profile_from_dict(data: dict) -> SiteProfile:
    urls = data.get("urls", {})
    article = data.get("article", {})
    links = data.get("links", {})
    discovery = data.get("discovery", {})

    def texts(key):
        return frozenset(fold_text(t) for t in links.get(key, []))

    return SiteProfile(
        name=data.get("name", "unnamed"),
        description=data.get("description", ""),
        start_urls=tuple(data.get("start_urls", ())),
        media_hosts=tuple(data.get("media_hosts", ())),
        hubs=tuple(data.get("hubs", ())),
        languages={k.lower(): v for k, v in data.get("languages", {}).items()},
        allow=_compile(urls.get("allow", ())),
        deny=_compile(urls.get("deny", ())),
        article_url=re.compile(urls["article"]) if urls.get("article") else None,
        section_url=re.compile(urls["section"]) if urls.get("section") else None,
        pagination_params=_compile(urls.get("pagination_params", ())),
        drop_params=_compile(urls.get("drop_params", ())),
        add_trailing_slash=bool(urls.get("add_trailing_slash", False)),
        directory_index=tuple(urls.get("directory_index", ())) or DIRECTORY_INDEX,
        container_selectors=tuple(article.get("container", ())),
        title_selectors=tuple(article.get("title", ())),
        date_selectors=tuple(article.get("date", ())),
        remove_selectors=tuple(article.get("remove", ())),
        date_formats=tuple(article.get("date_formats", ())),
        dayfirst=bool(article.get("dayfirst", True)),
        back_texts=texts("back"),
        section_link_texts=texts("back_to_section"),
        all_news_link_texts=texts("back_to_all_news"),
        boilerplate_texts=texts("boilerplate"),
        pager_marks=tuple(links.get("pager_marks", ())),
        sitemaps=bool(discovery.get("sitemaps", True)),
        feeds=bool(discovery.get("feeds", True)),
        feed_urls=tuple(discovery.get("feed_urls", ())),
    )


@lru_cache(maxsize=32)
def load_profile(name_or_path: str | Path) -> SiteProfile:
    """Load a bundled profile by name (``"csto"``) or any profile file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILE_DIR / f"{name_or_path}.toml"
    if not path.exists():
        bundled = ", ".join(sorted(p.stem for p in PROFILE_DIR.glob("*.toml")))
        raise ValueError(f"unknown site profile {name_or_path!r} (bundled profiles: {bundled})")
    with path.open("rb") as f:
        return profile_from_dict(tomllib.load(f))


def bundled_profiles() -> list[SiteProfile]:
    return [load_profile(p) for p in sorted(PROFILE_DIR.glob("*.toml"))]


def profile_for_url(url: str) -> SiteProfile | None:
    """The bundled profile whose hosts include the URL's host, if any."""
    host = (urlsplit(url).hostname or "").lower()
    for profile in bundled_profiles():
        if host in profile.languages:
            return profile
    return None
