"""Reading news feeds (RSS 2.0, RSS 1.0 and Atom), and the feeds a page links: plain data, no network.

A feed's items are a listing's entries: each gives an article's URL, its title and its date as the feed shows
them, and, when the feed says so, when the item was last updated (a change signal, docs/crawling.md).
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin

import lxml.etree
import lxml.html

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
ATOM = "{http://www.w3.org/2005/Atom}"


class FeedError(ValueError):
    """Not a feed: not XML, or XML of another kind."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str
    date: str | None  # the item's day, YYYY-MM-DD (as listings' dates are kept)
    updated: str | None  # when the item says it last changed, ISO 8601 in UTC; None when it does not say


def read_feed(body: bytes, base_url: str) -> list[FeedEntry]:
    """The entries of an RSS or Atom feed, in its order; :class:`FeedError` when ``body`` is none."""
    parser = lxml.etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = lxml.etree.fromstring(body, parser)
    except (lxml.etree.XMLSyntaxError, ValueError) as error:
        raise FeedError(f"not XML ({error})") from None
    if root is None or not isinstance(root.tag, str):
        raise FeedError("not XML")
    name = local(root.tag)
    if name == "feed":
        items, atom = root.iter(f"{ATOM}entry"), True
    elif name in ("rss", "RDF"):
        items, atom = (e for e in root.iter() if isinstance(e.tag, str) and local(e.tag) == "item"), False
    else:
        raise FeedError(f"an XML document of another kind (<{name}>)")
    entries = []
    for item in items:
        entry = atom_entry(item, base_url) if atom else rss_item(item, base_url)
        if entry is not None:
            entries.append(entry)
    return entries


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def children(item) -> dict[str, str]:
    """Each child's text by its local name (the first of each name)."""
    found: dict[str, str] = {}
    for child in item:
        if isinstance(child.tag, str):
            found.setdefault(local(child.tag), (child.text or "").strip())
    return found


def rss_item(item, base_url: str) -> FeedEntry | None:
    fields = children(item)
    link = fields.get("link") or (fields.get("guid") if (fields.get("guid") or "").startswith("http") else "")
    if not link:
        return None
    published = when(fields.get("pubDate") or fields.get("date"))
    updated = when(fields.get("updated") or fields.get("modified"))
    return entry(base_url, link, fields.get("title", ""), published, updated)


def atom_entry(item, base_url: str) -> FeedEntry | None:
    links = [(link.get("rel") or "alternate", link.get("href")) for link in item.iter(f"{ATOM}link")]
    href = next((href for rel, href in links if rel == "alternate" and href), None)
    if not href:
        return None
    fields = children(item)
    updated = when(fields.get("updated"))
    return entry(base_url, href, fields.get("title", ""), when(fields.get("published")) or updated, updated)


def entry(base_url: str, link: str, title: str, published: datetime | None, updated: datetime | None) -> FeedEntry:
    return FeedEntry(urljoin(base_url, link.strip()), " ".join(title.split()),
                     published.date().isoformat() if published else None,
                     updated.replace(microsecond=0).isoformat() if updated else None)


def when(text: str | None) -> datetime | None:
    """A feed's date (RFC 822 in RSS, ISO 8601 in Atom and Dublin Core) in UTC; None when unreadable."""
    if not text:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def alternate_feeds(html: bytes, base_url: str) -> list[str]:
    """The feeds a page names in its head (``<link rel="alternate" type="application/rss+xml" href=...>``)."""
    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return []
    found = []
    for link in tree.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES and link.get("href"):
            found.append(urljoin(base_url, link.get("href").strip()))
    return list(dict.fromkeys(found))
