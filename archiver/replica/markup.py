"""HTML helpers shared by both flavours' pages: the request context, escaping, body text, uploads, filler."""

from __future__ import annotations

import html
import zlib
from dataclasses import dataclass
from urllib.parse import quote

from . import texts
from .content import SECTION_SLUGS, ReplicaSite
from .model import Article


def esc(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass
class Ctx:
    """What a page needs to know about the request."""
    site: ReplicaSite
    lang: str
    base_urls: dict
    external_url: str | None
    path: str = "/"

    @property
    def ui(self) -> dict:
        return texts.UI[self.lang]

    def other_lang(self) -> str:
        return "ru" if self.lang == "en" else "en"


def _text(art: Article, text: str) -> str:
    """Escape, then sprinkle the non-breaking spaces a CMS editor leaves (entity or raw U+00A0)."""
    out = esc(text)
    if "nbsp_entity" in art.flags:
        out = out.replace("CSTO ", "CSTO&nbsp;", 1).replace("ОДКБ ", "ОДКБ&nbsp;", 1).replace(" – ", "\u00a0– ")
    return out


def segments(art: Article, ctx: Ctx, segs: list) -> str:
    """A paragraph's text and links as HTML."""
    out = []
    for s in segs:
        if isinstance(s, str):
            out.append(_text(art, s))
        else:
            href = s[1].replace("ext:", ctx.external_url or "https://www.osce.org", 1)
            out.append(f'<a href="{esc(href)}">{_text(art, s[2])}</a>')
    return "".join(out)


def upload_src(raw: str) -> str:
    """Editors' uploads appear raw (Cyrillic, spaces) on some pages and percent-encoded on others."""
    return quote(raw) if zlib.crc32(raw.encode()) % 2 else raw


def filled_to_size(html: str, size: int) -> tuple[int, object]:
    """(content length, byte chunks) of `html` with its <!--FILLER--> grown to about `size` bytes, streamed."""
    prefix, suffix = html.encode().split(b"<!--FILLER-->")
    chunk = ("<p>" + "Stenographic record of the session, continued. " * 20 + "</p>\n").encode() * 64
    count = max(1, -(-(size - len(prefix) - len(suffix)) // len(chunk)))
    total = len(prefix) + len(suffix) + count * len(chunk)

    def chunks():
        yield prefix
        for _ in range(count):
            yield chunk
        yield suffix
    return total, chunks()


def section_of(path: str) -> str | None:
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "news" and parts[1] in SECTION_SLUGS else None
