"""The item the spider yields: one extracted article, ready for the archive."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from ..extraction.extract import Article
from ..extraction.normalize import content_hash


# The extracted article's fields the item does not carry: they decide whether a page is an article at all.
NOT_CARRIED = {
    "is_article": "only articles become items",
    "reason": "why a page is not an article: it makes the page's kind in pages (listing, other), and is logged",
}
# The item's fields that are not columns of ``articles``, and where the archive keeps them
# (archiver.archive.storage). Every other field is a column of the same name (tests/archive/test_schema.py).
NOT_ARTICLE_COLUMNS = {
    "images": "rows of images, in order",
    "documents": "rows of documents, in order",
    "aliases": "rows of url_aliases",
    "status": "pages.http_status: the HTTP status of the response (articles.status is live or gone)",
    "search_stems": "article_search.stems",
}


@dataclass
class ArticleItem:
    url: str
    title: str | None
    published: str | None
    text: str
    language: str | None
    section: str | None
    section_url: str | None
    section_title: str | None
    description: str | None
    author: str | None
    images: list[dict] = field(default_factory=list)
    content_hash: str = ""
    extractor: str = ""
    fetched_at: str = ""
    status: int = 200
    # Other URLs that led to this article (redirect sources, tracking variants).
    aliases: list[str] = field(default_factory=list)
    # The article's entry in the listing that linked it, to notice edits without fetching.
    listing_title: str | None = None
    listing_date: str | None = None
    listing_url: str | None = None
    # Provenance: where the raw response is archived (set when WARC capture is on).
    warc_file: str | None = None
    warc_offset: int | None = None
    # Documents (PDF, DOC...) the article links to: [{"url", "text"}], with their files once downloaded.
    documents: list[dict] = field(default_factory=list)
    # The Snowball stems of title and text for the archive's search (archiver.archive.stemming), made where the page
    # was extracted (on every core): stored with the article, not exported to feeds (FEED_EXPORT_FIELDS).
    search_stems: str | None = field(default=None, repr=False, metadata={"exported": False})

    @classmethod
    def from_article(cls, article: Article, fetched_at: str, status: int = 200,
                     aliases: list[str] | None = None, teaser: tuple | None = None,
                     warc: tuple | None = None, documents: list[dict] | None = None,
                     search_stems: str | None = None) -> "ArticleItem":
        return cls(
            url=article.url, title=article.title, published=article.published, text=article.text,
            language=article.language, section=article.section, section_url=article.section_url,
            section_title=article.section_title, description=article.description, author=article.author,
            images=[asdict(image) for image in article.images],
            content_hash=content_hash(article.title, article.published, article.text),
            extractor=article.extractor, fetched_at=fetched_at, status=status,
            aliases=sorted(set(aliases or ()) - {article.url}),
            listing_title=teaser[0] if teaser else None, listing_date=teaser[1] if teaser else None,
            listing_url=teaser[2] if teaser else None,
            warc_file=warc[0] if warc else None, warc_offset=warc[1] if warc else None,
            documents=list(documents or ()), search_stems=search_stems,
        )


def exported_fields() -> list[str]:
    """The item's fields that feed exports write (``FEED_EXPORT_FIELDS``): all but the archive's own helpers."""
    return [item_field.name for item_field in fields(ArticleItem) if item_field.metadata.get("exported", True)]
