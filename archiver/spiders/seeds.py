"""Seed URLs given on the command line, checked before a crawl starts.

A seed the crawl cannot fetch (no scheme, another scheme than http(s), no host) is bad input: the crawl
refuses it in one line, naming the seed, instead of starting and failing on it.
"""

from __future__ import annotations

from urllib.parse import urlsplit


class BadSeed(ValueError):
    """A seed URL the crawl cannot fetch."""


def check_seed(url: str) -> str:
    """``url`` if the crawl can fetch it; raises :class:`BadSeed` saying why not."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # a port that is no number raises ValueError
    except ValueError as error:
        raise BadSeed(f"bad seed URL {url!r}: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise BadSeed(f"bad seed URL {url!r}: give an http:// or https:// URL")
    if not host:
        raise BadSeed(f"bad seed URL {url!r}: no host name")
    return url


def check_seeds(urls) -> list[str]:
    """The seeds, each checked (:func:`check_seed`)."""
    return [check_seed(url) for url in urls]


def check_arguments(profile_name: str, start_urls: str | None) -> None:
    """The spider's ``-a profile=...`` (or the default profile) and ``-a start_urls=...``, checked as the
    spider will read them; raises ``ValueError`` (a :class:`BadSeed`, or an unknown or broken profile)."""
    from ..profiles import load_profile

    profile = load_profile(profile_name)
    seeds = start_urls.split(",") if start_urls else profile.start_urls
    seeds = check_seeds(url.strip() for url in seeds if url.strip())
    if not seeds:
        raise BadSeed("no seeds: give -a start_urls=URL[,URL...] or a profile with start_urls")
