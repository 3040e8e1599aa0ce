"""Which date a page was published: the page's metadata, the date shown by the headline, the date in its URL.

Each source has its failure: metadata (``article:published_time``, JSON-LD) is often written in UTC, so an
article published in the evening of the 8th in America or after midnight in Europe says the 9th or the 7th;
the date shown near the headline may be another article's or the last update's; the URL has no time, and
not every URL has a date. So:

- a full date in the URL path (``/2025/06/23/``, ``/2025-06-23-slug``, ``/20250623/``) is the day the site
  filed the article under, in its own time zone: it decides the day;
- else the date shown next to the headline decides the day when the metadata's is a time in UTC (or of no
  stated zone) close enough to midnight for the page's own zone to be on the shown day, the day before or
  after (the same instant, in the page's own time zone; a shown time must then be a whole number of quarter
  hours from the metadata's, as zones are: another time is another moment, such as the last edit's);
  otherwise the metadata's is kept (a time with its own offset is already the page's local time; a shown date
  further away is another one: an update, a related article);
- else, with no date shown, a time in UTC near midnight is moved to the page's own zone when the page states
  one: the offset its other timestamps carry (``<time datetime="...-08:00">`` of its other articles, the
  modification time), so ``06:35Z`` on a page of ``-08:00`` times is the evening before;
- every date is taken as written, in its own time zone: ``2025-06-23T23:45:00+03:00`` is the 23rd, never
  converted to UTC first.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from urllib.parse import unquote, urlsplit

from .normalize import parse_date

# A year, a month and a day next to each other in a path: /2025/06/23/, /2025-06-23-slug, /20250623/, /2025/6/3/
# (one digit between separators; a one-digit day ends its path segment: /2023/10/3-questions/ is a month and a
# slug). Not inside a longer number (a 14-digit archive stamp, an id).
URL_DATE = re.compile(r"(?<![\d])((?:19|20)\d{2})(?:([/_.-])(0?[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01]|[1-9](?=/|$))"
                      r"|(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01]))(?![\d])")


def url_date(url: str | None) -> str | None:
    """The day a URL's path names (``YYYY-MM-DD``), if it names a whole one; ``None`` otherwise.

    Only the path counts (a query's ``?date=`` is a listing's), and only a plausible day: an impossible one
    (31 June) or one in the future is not a date.
    """
    try:
        path = unquote(urlsplit(url or "").path)
    except ValueError:
        return None
    for match in URL_DATE.finditer(path):
        year, _, month, day, bare_month, bare_day = match.groups()
        month, day = month or bare_month, day or bare_day
        try:
            found = date(int(year), int(month), int(day))
        except ValueError:
            continue
        if found <= date.today():
            return found.isoformat()
    return None


def choose(structured: str | None, shown: str | None, in_url: str | None,
           fallback: str | None = None, page_offset: timedelta | None = None) -> str | None:
    """The publication date (ISO 8601, with its time when one is known) from the page's metadata
    (``structured``), the date shown by the headline (``shown``), the URL's day (``in_url``) and a last resort
    (``fallback``); each may be ``None`` and may be unparsed text. ``page_offset``: the page's own time zone
    (:func:`page_offset`), if it states one."""
    in_utc, stated_utc = _utc_or_unzoned(structured), bool(UTC.search((structured or "").strip()))
    structured, shown, fallback = (parse_date(value, dayfirst=True) if value else None
                                   for value in (structured, shown, fallback))
    if structured and shown and in_utc and _same_moment_elsewhere(structured, shown):
        structured = shown  # the same moment, in the page's own time zone
    elif structured and not shown and stated_utc and page_offset and _near_midnight(structured, page_offset):
        structured = _moved(structured, page_offset)
    found = structured or shown or fallback
    if in_url:
        # The URL's day decides; the time is kept only when it is of that day.
        return found if found and found[:10] == in_url else in_url
    return found


# The end of a timestamp in UTC ("Z", "+00:00", "GMT"), or of one naming no zone at all.
UTC = re.compile(r"(?:Z|[+-]00:?00|\b(?:GMT|UTC))\W*$", re.IGNORECASE)
ZONED = re.compile(r"(?:[+-]\d{2}:?\d{2}|\b[A-Z]{3,4})\W*$")
# Local time zones are at most this many hours from UTC, in practice (America's west coast, Asia's east).
MAX_OFFSET_HOURS = 10


# An ISO timestamp with an offset other than UTC's: "2023-11-08T23:05:04-08:00".
OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?([+-])(\d{2}):?(\d{2})$")


def page_offset(timestamps) -> timedelta | None:
    """The time zone a page's timestamps (``<time datetime>``, metadata) are most often written in, when they
    state one other than UTC's; ``None`` otherwise."""
    offsets = Counter()
    for value in timestamps:
        match = OFFSET.match((value or "").strip())
        if match:
            sign, hours, minutes = match.groups()
            offset = timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == "-" else 1)
            if offset and abs(offset) <= timedelta(hours=MAX_OFFSET_HOURS):
                offsets[offset] += 1
    return offsets.most_common(1)[0][0] if offsets else None


def _near_midnight(utc: str, offset: timedelta) -> bool:
    """The UTC timestamp falls on another day in the page's zone."""
    return len(utc) >= 13 and _moved(utc, offset)[:10] != utc[:10]


def _moved(utc: str, offset: timedelta) -> str:
    return (datetime.fromisoformat(utc) + offset).isoformat()


def _utc_or_unzoned(value: str | None) -> bool:
    value = (value or "").strip()
    return bool(UTC.search(value)) or not ZONED.search(value)


def _same_moment_elsewhere(utc: str, shown: str) -> bool:
    """``shown`` is the day before or after the UTC timestamp's, and the timestamp is near enough midnight
    for a time zone to be on that day."""
    if len(utc) < 13:
        return False  # a day without a time: no moment to place in another zone
    apart = (date.fromisoformat(shown[:10]) - date.fromisoformat(utc[:10])).days
    hour = int(utc[11:13])
    near = apart == -1 and hour < MAX_OFFSET_HOURS or apart == 1 and hour >= 24 - MAX_OFFSET_HOURS
    return near and (len(shown) < 16 or _a_zone_apart(utc, shown))


ZONE_STEP = 15 * 60  # time zones are whole quarters of an hour from UTC
CLOCK_SLACK = 60  # a shown time is written to the minute, a timestamp to the second


def _a_zone_apart(utc: str, shown: str) -> bool:
    """A shown time that is the UTC timestamp's moment on a local clock: a whole number of quarter hours
    apart, within the zones in use. Another time (the last edit's, in a ``<time datetime>`` by the
    headline) is another moment."""
    seconds = (datetime.fromisoformat(shown[:19]) - datetime.fromisoformat(utc[:19])).total_seconds()
    zone = round(seconds / ZONE_STEP) * ZONE_STEP
    return abs(seconds - zone) <= CLOCK_SLACK and abs(zone) <= MAX_OFFSET_HOURS * 3600
