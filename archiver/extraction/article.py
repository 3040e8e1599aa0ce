"""The article a page gives: what extraction returns, plain data (it crosses process boundaries)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .images import Image


@dataclass
class Article:
    """What a page says of itself. ``is_article`` tells whether it is one."""

    url: str
    title: str | None = None
    published: str | None = None
    text: str = ""
    images: list[Image] = field(default_factory=list)
    language: str | None = None
    section: str | None = None
    section_url: str | None = None
    section_title: str | None = None
    description: str | None = None
    author: str | None = None
    is_article: bool = False
    reason: str = ""  # why a page is not an article, or "" when it is
    extractor: str = "generic"  # "profile:<name>" when a site profile matched

    @property
    def date_missing(self) -> bool:
        return self.is_article and not self.published
