"""Snowball stems for the archive's search (``article_search``): one function for documents and queries.

The crawl stems each article where it is extracted (:func:`archiver.crawl.workers.summarize`, in the extraction
workers when there are any), :mod:`archiver.archive.explore` stems what a crawl did not (older archives, other
writers), and the Datasette plugin stems the user's query the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Bump when the stemming changes: every article is stemmed again on the next refresh.
STEMMER_VERSION = "snowball-3:script"
WORD = re.compile(r"\w+", re.UNICODE)
CYRILLIC = re.compile("[\u0400-\u04ff]")


@lru_cache(maxsize=2)
def _stemmer(language: str):
    import snowballstemmer

    return snowballstemmer.stemmer(language)


# Each process that stems (every extraction worker) keeps its own cache: some 200 bytes a word form (its
# string and its stem), so at most about 10 MB each; the most frequent forms, the bulk of any text, stay.
@lru_cache(maxsize=50_000)
def stem_word(word: str) -> str:
    """The Snowball stem of one lower-case word: Russian for Cyrillic words, English for the others."""
    word = word.replace("ё", "е")
    return _stemmer("russian" if CYRILLIC.search(word) else "english").stemWord(word)


def words(text: str | None) -> list[str]:
    return WORD.findall((text or "").lower())


def stems(text: str | None) -> list[str]:
    return [stem_word(word) for word in words(text)]


def stem_text(text: str | None, language: str | None = None) -> str:
    """``text`` as space-separated stems (``language`` is not needed: each word is stemmed by its script)."""
    return " ".join(stems(text))


def article_stems(title: str | None, text: str | None) -> str:
    """An article's ``article_search.stems``: its title's stems, a newline, its text's."""
    return stem_text(title) + "\n" + stem_text(text)
