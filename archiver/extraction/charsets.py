"""A page's text from its bytes: the charset its server declares, unless the bytes say otherwise.

Browsers trust the HTTP header; but old CMSs often send their default header (UTF-8)
over a page saved in windows-1251, or the reverse. So the declared charset is used when the bytes decode
cleanly under it; else the ``<meta>`` charset, then the one detected from the bytes (w3lib's detection:
UTF-8 when the bytes are UTF-8, else Firefox's guess). When none fits, the page is read as a browser reads it
(bad bytes become U+FFFD) and :attr:`Decoding.clean` is false, for the crawl to log.

A byte order mark decides, as in browsers. Bytes that are UTF-8 with non-ASCII characters (or nearly: a
character cut here and there) are never read as a single-byte charset: no legacy text makes such sequences by
chance, while any bytes "decode" under windows-1251.
"""

from __future__ import annotations

from dataclasses import dataclass

from w3lib.encoding import html_body_declared_encoding, html_to_unicode, http_content_type_encoding, read_bom, \
    resolve_encoding, to_unicode

from . import htmltree

try:  # w3lib's own detection (w3lib 2.6 and later depend on it)
    from frostwork.encoding import autodetect_encoding
except ImportError:  # an older w3lib: the <meta> charset is the only fallback
    autodetect_encoding = None

UTF8 = "utf-8"
# At least this many valid UTF-8 characters for each bad byte sequence: UTF-8 with a cut character, not a
# legacy charset (read as UTF-8, windows-1251 text makes almost no valid sequence).
UTF8_GOOD_PER_BAD = 4
ASCII_BYTES = bytes(range(128))


@dataclass(frozen=True)
class Decoding:
    """How a page's bytes were read: plain data, it crosses process boundaries."""

    charset: str  # the codec the text was read with
    declared: str | None = None  # the HTTP header's charset, if any
    clean: bool = True  # every byte decoded under ``charset``
    tried: tuple[str, ...] = ()  # the charsets tried, in order, when the first did not fit

    @property
    def fell_back(self) -> bool:
        """The declared charset did not fit the bytes: another was used."""
        return self.declared is not None and self.charset != self.declared

    @property
    def noteworthy(self) -> bool:
        """Worth a log line: the declared charset did not fit, or none did."""
        return self.fell_back or not self.clean

    def describe(self) -> str:
        """For a log line: what was tried and what was kept."""
        if not self.clean:
            tried = ", ".join(self.tried) or self.charset
            return f"tried {tried}; read as {self.charset} with replacement characters"
        return f"{self.declared} declared, read as {self.charset}"


def decode(body: bytes, content_type: str | bytes | None = None, url: str | None = None) -> tuple[str, Decoding]:
    """The text of ``body`` and how it was read (``content_type``: the HTTP header, if any)."""
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")  # as HTTP headers are read
    if read_bom(body)[0] is not None:
        charset, text = html_to_unicode(content_type, body)
        return text, Decoding(charset, clean="\ufffd" not in text)
    declared = http_content_type_encoding(content_type)
    if declared:
        text = strictly(body, declared)
        if text is not None:  # the common case: one decoding, as a browser's
            return text, Decoding(declared, declared)
    return _fall_back(body, content_type, declared, url)


def _fall_back(body: bytes, content_type: str | None, declared: str | None, url: str | None) -> tuple[str, Decoding]:
    """The declared charset is missing or does not fit: the ``<meta>`` one, then detection's."""
    tried = [declared] if declared else []
    for candidate in _candidates(body, url):
        if candidate in tried:
            continue
        tried.append(candidate)
        text = strictly(body, candidate)
        if text is not None:
            return text, Decoding(candidate, declared, tried=tuple(tried))
    if is_utf8_like(body):  # UTF-8 with a cut character: read as UTF-8, not as mojibake
        return body.decode(UTF8, "replace"), Decoding(UTF8, declared, clean=False, tried=tuple(tried))
    charset, text = html_to_unicode(content_type, body)  # as a browser reads it
    return text, Decoding(charset, declared, clean=False, tried=tuple(tried or [charset]))


def _candidates(body: bytes, url: str | None):
    """The ``<meta>`` charset, then the detected one (detection runs only if needed)."""
    meta = html_body_declared_encoding(body)
    if meta:
        yield meta
    if autodetect_encoding is not None:
        detected = resolve_encoding(autodetect_encoding(body, url=url))
        if detected:
            yield detected


def strictly(body: bytes, charset: str) -> str | None:
    """``body`` decoded under ``charset``, or ``None`` if some bytes do not fit it."""
    if charset == UTF8:
        try:
            return body.decode(UTF8)
        except UnicodeDecodeError:
            return None
    try:
        text = to_unicode(body, charset)
    except LookupError:  # a charset no codec knows
        return None
    if "\ufffd" in text or is_utf8_like(body):
        return None
    return text


def is_utf8_like(body: bytes) -> bool:
    """Bytes that are UTF-8 with some non-ASCII characters, or nearly (a few cut characters)."""
    try:
        body.decode(UTF8)
    except UnicodeDecodeError as error:
        if body[:error.start].isascii():
            return False  # the first non-ASCII bytes are not UTF-8 (the usual answer for legacy text, and fast)
        text = body.decode(UTF8, "replace")
        bad = text.count("\ufffd")
        non_ascii = len(text) - (len(body) - len(body.translate(None, ASCII_BYTES)))
        return non_ascii - bad >= UTF8_GOOD_PER_BAD * bad
    return not body.isascii()


def read_body(body: str | bytes, content_type: str | bytes | None = None,
              url: str | None = None) -> tuple[str, Decoding | None, str | None]:
    """A page's text (NULs stripped: they are no text, and never a reason to drop a page), how its bytes
    were read (``None`` for a body given as text) and why it cannot be a page at all, if so."""
    if isinstance(body, str):
        text, decoding, problem = body, None, body_problem(body)
    else:
        binary = htmltree.looks_binary(body)
        if binary and not _wide(body, content_type):  # judged before any decoding
            return "", None, "binary body"
        text, decoding = decode(body, content_type, url)
        # Bytes judged as text above and decoded cleanly: their text has the same control characters and no
        # replacement ones, so it is not judged again.
        problem = body_problem(text, judged=decoding.clean and not binary)
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text, decoding, problem


def body_problem(text: str, judged: bool = False) -> str | None:
    """Why a decoded body cannot be a page at all, or ``None`` (``judged``: its bytes were found not binary)."""
    if not text or text.isspace():
        return "empty body"
    if not judged and htmltree.looks_binary(text):
        return "binary body"
    return None


def _wide(body: bytes, content_type: str | bytes | None) -> bool:
    """UTF-16 or UTF-32 text, where every other byte is a NUL (by its byte order mark or its header)."""
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    charset = read_bom(body)[0] or http_content_type_encoding(content_type) or ""
    return charset.replace("_", "-").lower().startswith(("utf-16", "utf-32"))
