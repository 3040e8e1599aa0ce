"""From an extracted article to the row the archive stores: what the crawl's pipelines and ``archiver rebuild``
share (no Scrapy here: the rebuild reads WARC files, not responses)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from functools import lru_cache

# An item without one of these is no archivable article (ValidationPipeline drops it, the rebuild skips it).
REQUIRED_FIELDS = ("url", "title", "text")


def missing_field(row: dict) -> str | None:
    """The first required field an article's row lacks, or None when it is archivable."""
    return next((name for name in REQUIRED_FIELDS if not row.get(name)), None)


def item_row(item) -> dict:
    """An item as a row: a shallow copy of a dataclass item (its values are already plain
    data: ItemAdapter's recursive ``asdict`` cost more than the archive's writes), else
    ItemAdapter's dict for any other kind of item."""
    if is_dataclass(item) and not isinstance(item, type):
        return {name: getattr(item, name) for name in _field_names(type(item))}
    from itemadapter import ItemAdapter  # only for items of other kinds (dicts, Scrapy items)
    return ItemAdapter(item).asdict()


@lru_cache(maxsize=None)
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(field.name for field in fields(kind))
