"""Normalization of URLs, dates and text.

- URLs: :func:`canonical_url` gives one URL per page however it was linked
  (w3lib's canonicalization plus the removal of tracking parameters and of
  the profile's noise parameters, and the folding of directory indexes
  (``index.php``) and, where the profile asks, of trailing slashes).
- Dates: :func:`parse_date` reads day-first numeric dates and English or
  Russian month names (any grammatical case) with python-dateutil and
  returns ISO 8601.
- Text: :func:`clean_text` gives NFC text without control characters or
  non-breaking spaces, one paragraph per line, paragraphs separated by a
  blank line (``"\\n\\n"``).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
import unicodedata
from datetime import date, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from dateutil import parser as dateutil_parser
from w3lib.url import canonicalize_url, safe_url_string

from ..profiles import _RULES, GENERIC, SiteProfile

# Tracking and session parameters dropped on every site, whatever its profile says (analytics and ad
# networks' click ids; PHP's and other frameworks' default session names); a profile adds its site's own
# (its ``drop_params``).
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|yclid|_openstat|mc_cid|mc_eid|igshid|PHPSESSID|sessionid)$",
    re.IGNORECASE,
)
JSESSIONID = re.compile(r";jsessionid=[^/?#]*", re.IGNORECASE)
DEFAULT_PORTS = {"http": 80, "https": 443}
PAGE_ONE = {"1"}


def canonical_url(url: str, profile: SiteProfile = GENERIC) -> str:
    """The canonical form of ``url``: the one URL stored for a page.

    Lower-case scheme and host, no default port, no fragment, no tracking or
    session parameters, sorted query, percent-encoding normalized, directory
    index files folded into their directory, and (when the profile asks) a
    trailing slash on extension-less paths. A listing's page 1 (the profile's
    page parameter set to 1) is the bare listing.
    """
    try:
        return _canonical_url(url, profile.url_rules)
    except ValueError:  # a port out of range or not a number, a broken IPv6 address: kept as written
        return url.strip()


# URLs that w3lib's functions would return unchanged (checked against them on 10^5 generated URLs):
# http(s), a lower-case ASCII host, a port without leading zeros, a path of unreserved characters.
_HOST_PORT = r"^https?://[a-z0-9.-]+(?::(?:[1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5]))?"
# ... no query, no fragment: canonicalize_url(safe_url_string(url)) is the URL itself.
PLAIN_URL = re.compile(_HOST_PORT + r"(?:/[A-Za-z0-9._~/-]*)?$")
# ... a plain path and a query of unreserved characters and percent-escapes: w3lib would leave the
# path as it is, and its query normalization is redone below anyway (parsed, sorted, encoded again).
PLAIN_PATH_QUERY_URL = re.compile(_HOST_PORT + r"(?:/[A-Za-z0-9._~/-]*)?\?(?:[A-Za-z0-9._~=&+-]|%[0-9A-Fa-f]{2})*$")
# ... upper-case percent-escapes in the path and the query: safe_url_string(url) is the URL itself
# (checked against it on 2 x 10^5 generated URLs; share buttons' links, new on every page, are such).
_SAFE_PATH_CHAR = r"(?:[A-Za-z0-9._~/-]|%[0-9A-F]{2})"
_SAFE_QUERY_CHAR = r"(?:[A-Za-z0-9._~=&-]|%[0-9A-F]{2})"
# ... and no dot segment (".", ".."): w3lib 2.6 resolves them.
_NO_DOT_SEGMENT = r"(?![^?]*/\.\.?(?:[/?]|$))"
SAFE_URL = re.compile(_HOST_PORT + _NO_DOT_SEGMENT + r"(?:/" + _SAFE_PATH_CHAR + r"*(?:\?" + _SAFE_QUERY_CHAR + r"+)?)?$")


@lru_cache(maxsize=1 << 14)  # pages repeat the same menus and sidebars: most links were seen before
def _canonical_url(url: str, rules: int) -> str:
    profile = _RULES[rules]
    url = url.strip()
    if not (PLAIN_URL.match(url) or PLAIN_PATH_QUERY_URL.match(url)) or "/." in url:
        # w3lib's percent-encoding, IDNA, query sorting and dot segments; a plain URL (most
        # links, and share buttons' long queries) has nothing for them to change, and they
        # cost most of the time here.
        url = canonicalize_url(safe_url_string(url), keep_fragments=False)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    if parts.port and parts.port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    # A Java servlet's session in the path (";jsessionid=..."): one page, whatever the session.
    path = JSESSIONID.sub("", parts.path) or "/"
    last = path.rsplit("/", 1)[-1]
    if last.lower() in profile.directory_index:
        path = path[: -len(last)]
    elif profile.add_trailing_slash and last and "." not in last:
        path += "/"
    params = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True, encoding="latin-1")
        if not TRACKING_PARAMS.match(k)
        and not profile.is_dropped_param(k)
        and not (profile.is_pagination_param(k) and v.strip().lstrip("0") in PAGE_ONE)
    ]
    # Escapes are kept byte for byte (latin-1 maps each byte to one character and back): a query written in
    # another encoding than UTF-8 (windows-1251 on Russian sites) would otherwise decode to U+FFFD, and
    # different values to one URL.
    query = urlencode(sorted(params), encoding="latin-1")
    return urlunsplit((scheme, host, path, query, ""))


class _ParserInfo(dateutil_parser.parserinfo):
    """dateutil's parser taught month names of the languages news pages are most often written in: Russian
    in every case and form; German, French, Spanish, Portuguese, Italian, Dutch and Polish (genitive)."""

    MONTHS = [
        ("Jan", "January", "янв", "январь", "января", "январе", "Januar", "Jänner", "janvier", "enero", "janeiro",
         "gennaio", "januari", "stycznia"),
        ("Feb", "February", "фев", "февр", "февраль", "февраля", "феврале", "Februar", "février", "febrero",
         "fevereiro", "febbraio", "februari", "lutego"),
        ("Mar", "March", "мар", "март", "марта", "марте", "März", "mars", "marzo", "março", "maart", "marca"),
        ("Apr", "April", "апр", "апрель", "апреля", "апреле", "avril", "abril", "aprile", "kwietnia"),
        ("May", "May", "май", "мая", "мае", "Mai", "mayo", "maio", "maggio", "mei", "maja"),
        ("Jun", "June", "июн", "июнь", "июня", "июне", "Juni", "juin", "junio", "junho", "giugno", "czerwca"),
        ("Jul", "July", "июл", "июль", "июля", "июле", "Juli", "juillet", "julio", "julho", "luglio", "lipca"),
        ("Aug", "August", "авг", "август", "августа", "августе", "août", "agosto", "augustus", "sierpnia"),
        ("Sep", "Sept", "September", "сен", "сент", "сентябрь", "сентября", "сентябре", "septembre", "septiembre",
         "setiembre", "setembro", "settembre", "września"),
        ("Oct", "October", "окт", "октябрь", "октября", "октябре", "Oktober", "octobre", "octubre", "outubro",
         "ottobre", "października"),
        ("Nov", "November", "ноя", "нояб", "ноябрь", "ноября", "ноябре", "novembre", "noviembre", "novembro",
         "listopada"),
        ("Dec", "December", "дек", "декабрь", "декабря", "декабре", "Dezember", "décembre", "diciembre",
         "dezembro", "dicembre", "grudnia"),
    ]
    # "3 de mayo de 2022", "3 mai 2022 à 14h": words between a date's parts
    JUMP = dateutil_parser.parserinfo.JUMP + ["г", "г.", "года", "год", "de", "del", "à"]


_MONTH_WORDS = "|".join(sorted({w for names in _ParserInfo.MONTHS for w in names}, key=len, reverse=True))
_TIME_ITSELF = r"[ ,T]+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?(?![^\W\d_]))?"  # 2:35 PM is 14:35
_TIME = rf"(?:{_TIME_ITSELF})?"
_ORDINAL = r"(?:st|nd|rd|th)?"  # 3rd July, July 3rd
# 3 июля 2020 г., 14:35: the time after "г." still belongs to the date (without a time "г." is left out)
_YEAR_WORD_TIME = rf"(?:(?:\s*(?:г\.|(?:года|г)(?![^\W\d_])))?{_TIME_ITSELF})?"
DATE_PATTERN = re.compile(
    r"(?<![\d.])(?:"
    r"\d{4}-\d{2}-\d{2}" + _TIME
    + r"|\d{4}/\d{2}/\d{2}" + _TIME
    + r"|\d{1,2}([./-])\d{1,2}\1\d{4}" + _YEAR_WORD_TIME
    # 3 July 2020, 3. Juli 2020, 3 de julio de 2020
    + r"|\d{1,2}(?:\.|" + _ORDINAL + r")\s*(?:de\s+)?(?:" + _MONTH_WORDS + r")\.?,?\s+(?:de\s+)?\d{4}"
    + _YEAR_WORD_TIME
    # A month name starts a word: the guard spares trying every month name at every letter.
    + r"|(?<![^\W\d_])(?:" + _MONTH_WORDS + r")\.?\s+\d{1,2}" + _ORDINAL + r",?\s+\d{4}" + _TIME
    + r")(?![\d])",
    re.IGNORECASE,
)
MIN_YEAR = 1990
# A numeric date whose second number cannot be a month: dateutil would quietly read it month first.
_NOT_DAY_FIRST = re.compile(r"\d{1,2}[./-](1[3-9]|[2-9]\d)[./-]\d{4}")


def find_dates(text: str) -> list[str]:
    """Every date-looking substring of ``text``, in order."""
    return [m.group(0) for m in DATE_PATTERN.finditer(text or "")]


# 20180619T055000+0900 and 20201123T11:02:35Z: a basic date, its time basic or extended
ISO_BASIC = re.compile(r"^\d{8}(T\d{2}:?\d{2}(:?\d{2}([.,]\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def parse_date(text: str, dayfirst: bool = True, formats=()) -> str | None:
    """The first date in ``text`` as ISO 8601, or ``None``.

    ``03.07.2020`` is 3 July 2020 (day first, unless ``dayfirst=False``);
    ``12 февраля 2020 г.`` is 2020-02-12. A date without a time gives
    ``YYYY-MM-DD``; with a time, ``YYYY-MM-DDTHH:MM[:SS]``. Implausible years
    (before 1990 or in the future) give ``None``.
    """
    if not text:
        return None
    text = clean_line(text)
    if ISO_BASIC.match(text):  # as some sites' metadata write it
        try:
            return _iso(datetime.fromisoformat(text), "T" in text)
        except ValueError:
            pass
    for candidate in [text] + find_dates(text):
        for fmt in formats:
            try:
                return _iso(datetime.strptime(candidate, fmt), "%H" in fmt)
            except ValueError:
                pass
    for candidate in find_dates(text):
        is_iso = re.match(r"\d{4}[-/]", candidate) is not None  # year first: never day first
        if dayfirst and _NOT_DAY_FIRST.match(candidate):
            continue  # 03.13.2020 on a day-first site: a slip, or month first; either way not a date to store
        try:
            parsed = dateutil_parser.parse(
                candidate.replace(",", " "),
                parserinfo=_ParserInfo(dayfirst=dayfirst and not is_iso),
                fuzzy=True,
            )
        except (ValueError, OverflowError):
            continue
        if _plausible(parsed):
            return _iso(parsed, ":" in candidate)
    return None


def _plausible(value: datetime) -> bool:
    return MIN_YEAR <= value.year <= date.today().year + 1


def _iso(value: datetime, with_time: bool) -> str | None:
    if not _plausible(value):
        return None
    if with_time and (value.hour or value.minute or value.second):
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    return value.date().isoformat()


# Characters that are invisible, or control characters: str.split() does not drop them.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x9f]")
_INVISIBLE_OR_CONTROL = re.compile(f"{_INVISIBLE.pattern}|{_CONTROL.pattern}")


def clean_line(text: str) -> str:
    """One line of text: NFC, no invisible or control characters, single spaces (NBSP included)."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if _INVISIBLE_OR_CONTROL.search(text):  # rare: one search for both
        text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    return " ".join(text.split())  # split() breaks on every Unicode space: NBSP, thin, figure...


def clean_text(text: str | None) -> str:
    """Clean multi-line text: every non-empty line a paragraph, joined by ``"\\n\\n"``."""
    if not text:
        return ""
    return "\n\n".join(filter(None, (clean_line(line) for line in text.splitlines())))


def paragraphs(text: str | None) -> list[str]:
    """The paragraphs of a text made by :func:`clean_text`."""
    return [p for p in (text or "").split("\n\n") if p]


def content_hash(*fields: str | None) -> str:
    """A stable SHA-256 of the given fields, to tell edited content from unchanged."""
    digest = hashlib.sha256()
    for value in fields:
        digest.update((value or "").encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()
