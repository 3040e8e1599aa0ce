"""Article model and the deterministic generator of titles, dates and bodies.

Everything is derived from (seed, item id), so a site of any size is cheap: bodies are generated only when a page
or the ground truth asks for them.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
import zlib
from dataclasses import dataclass, field

from . import texts

NEWEST_DATE = dt.date(2026, 10, 30)


def rng_for(seed: int, purpose: str, item: int) -> random.Random:
    """A private random stream per (seed, purpose, item), independent of generation order (int seeding is cheap)."""
    return random.Random((seed << 48) ^ (zlib.crc32(purpose.encode()) << 24) ^ item)


_TRANSLIT_TABLE = str.maketrans(texts.TRANSLIT)
_NON_SLUG = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=4096)  # generated titles repeat a lot on big sites
def slugify(russian_title: str, limit: int = 100) -> str:
    """Bitrix-style element code: transliterated lower-case Russian title, hyphens, cut at a word boundary."""
    out = _NON_SLUG.sub("-", russian_title.lower().translate(_TRANSLIT_TABLE)).strip("-")
    if len(out) > limit:
        out = out[:limit].rsplit("-", 1)[0]
    return out


def format_date(day: dt.date, language: str, genitive: bool = False) -> str:
    """The page's date line: DD.MM.YYYY, or the Russian '12 февраля 2020 г.' form."""
    if genitive and language == "ru":
        return f"{day.day} {texts.MONTHS_GENITIVE[day.month - 1]} {day.year} г."
    return day.strftime("%d.%m.%Y")


def written_date(day: dt.date, language: str) -> str:
    """A date as written inside running text."""
    if language == "ru":
        return f"{day.day} {texts.MONTHS_GENITIVE[day.month - 1]} {day.year} года"
    return f"{texts.MONTHS_EN[day.month - 1]} {day.day}, {day.year}"


def generated_dates(count: int, reserved: set[dt.date], seed: int) -> list[dt.date]:
    """Distinct dates going back from NEWEST_DATE, spread over years, often with a day <= 12.

    The day <= 12 bias makes DD.MM and MM.DD readings both plausible, so a month-first parser fails visibly.
    """
    step = max(1, 2800 // max(count, 1))
    used = set(reserved)
    out = []
    for i in range(count):
        base = NEWEST_DATE - dt.timedelta(days=i * step)
        window = [base - dt.timedelta(days=j) for j in range(step)]
        h = zlib.crc32(b"%d:%d" % (seed, i))  # cheaper than a Random per date; this runs for every element
        ambiguous = [d for d in window if d.day <= 12 and d.day != d.month]
        day = ambiguous[h % len(ambiguous)] if ambiguous and h % 10 < 7 else window[(h >> 8) % step]
        while day in used:
            day -= dt.timedelta(days=1)
        used.add(day)
        out.append(day)
    return out


@dataclass
class Article:
    """One language version of a news element."""
    key: str                      # "<language>:<canonical path>"
    language: str
    item: int                     # shared by the translations of one element
    path: str                     # canonical path, /news/<section>/<slug>/
    sections: tuple               # first is the canonical section; a second one serves a duplicate URL
    title: str
    order_date: dt.date           # listing order; also the published date unless undated
    role: str = ""                # special behaviour, see content.ROLES
    flags: frozenset = frozenset()
    preview_image: str = ""
    detail_image: str = ""
    edits: int = 0
    body_edits: int = 0           # edits of the body only: the title, date and listing entry unchanged
    deleted: bool | str = False  # True: answers 404; "soft_404": answers 200 with a "not found" page
    modified: float = 0.0         # epoch seconds for Last-Modified
    real: dict | None = None      # a real article's texts
    _blocks: list | None = field(default=None, repr=False)

    @property
    def published(self) -> dt.date | None:
        return None if self.role == "undated" else self.order_date

    @property
    def shown_title(self) -> str:
        """Title with edits applied."""
        suffix = texts.UI[self.language]["edited_title"]
        return self.title + (suffix * min(self.edits, 1)) + (f" {self.edits}" if self.edits > 1 else "")


def make_vars(r: random.Random, day: dt.date) -> dict:
    """Parallel English/Russian slot values for one element, drawn from the element's random stream."""
    person, person_ru = r.choice(texts.PERSONS)
    role, role_ru = r.choice(texts.ROLES)
    city, city_ru = r.choice(texts.CITIES)
    city2, city2_ru = r.choice([c for c in texts.CITIES if c[0] != city])
    ev = r.choice(texts.EVENTS)
    topic, topic_ru = r.choice(texts.TOPICS)
    year = day.year
    return {"person": person, "person_ru": person_ru, "role": role, "role_ru": role_ru, "city": city,
            "city_ru": city_ru, "city2": city2, "city2_ru": city2_ru, "event": ev[0].format(year=year),
            "event_ru": ev[1].format(year=year), "event_prep": ev[2].format(year=year), "topic": topic,
            "topic_ru": topic_ru, "when": written_date(day, "en"), "when_ru": written_date(day, "ru"),
            "template": r.randrange(len(texts.TITLE_TEMPLATES))}


def make_titles(v: dict) -> tuple[str, str]:
    en, ru = texts.TITLE_TEMPLATES[v["template"]]
    en_title = en.format(**v)
    return en_title[0].upper() + en_title[1:], ru.format(**v)


def generate_body(seed: int, art: Article, v: dict) -> list:
    """Body blocks for a generated article; the same random choices for both languages keep them parallel.

    Blocks: ("p", [str | ("a", href, text)]), ("img", raw_src, alt, caption|None, "p"|"figure"|None),
    ("table", rows), ("pdf", href, label), ("sig", text).
    """
    ru = art.language == "ru"
    r = rng_for(seed, "body", art.item)
    # a news lead first (it also becomes the listing teaser), then shuffled follow-up sentences
    lead = texts.UNDATED_LEAD if art.role == "undated" else texts.SENTENCES[0]
    paras = [lead[1 if ru else 0].format(**v)]
    order = r.sample(range(1, len(texts.SENTENCES)), k=r.randint(4, 7))
    i = 0
    while i < len(order):
        n = r.choice((1, 1, 2))
        paras.append(" ".join(texts.SENTENCES[j][1 if ru else 0].format(**v) for j in order[i:i + n]))
        i += n
    blocks: list = [("p", [p]) for p in paras]
    # a few inline links: to another article, to the off-site host and to vk.com
    link_kind = r.randrange(4)
    if link_kind and len(blocks) > 1:
        label = {1: ("the official website of the partner", "официальном сайте партнёра"),
                 2: ("the CSTO page on VK", "странице ОДКБ во ВКонтакте"),
                 3: ("all CSTO news", "всех новостях ОДКБ")}[link_kind][1 if ru else 0]
        href = {1: "ext:/partners/", 2: "https://vk.com/odkb_csto", 3: "/news/"}[link_kind]
        lead = "Подробнее – на " if ru else "More details are available on "
        blocks[-1] = ("p", [blocks[-1][1][0] + " " + lead, ("a", href, label), "."])
    for n in range(r.choice((0, 0, 1, 2))):
        names = texts.BODY_IMAGE_NAMES[1:] if art.role == "undated" else texts.BODY_IMAGE_NAMES
        name = r.choice(names).format(city_ru=v["city_ru"], d=art.order_date.strftime("%d.%m.%Y"),
                                                       n=r.randint(1000, 9999))
        cap = r.choice(texts.CAPTIONS)[1 if ru else 0] if r.random() < 0.7 else None
        style = r.choice(("p", "figure")) if cap else None
        src = f"/upload/medialibrary/{r.randrange(4096):03x}/{name}"
        blocks.insert(min(len(blocks), 1 + 2 * n), ("img", src, "" if r.random() < 0.3 else art.title, cap, style))
    if "signature" in art.flags:
        blocks.append(("sig", texts.UI[art.language]["signature"]))
    return blocks


def special_body(art: Article, v: dict) -> list | None:
    """Handwritten bodies of the articles whose markup itself is the test."""
    ru = art.language == "ru"
    if art.role == "table":
        rows = ([["Государство", "Участники", "Техника"], ["Армения", "120", "15"], ["Беларусь", "340", "42"],
                 ["Казахстан", "410", "57"]] if ru else
                [["State", "Personnel", "Equipment"], ["Armenia", "120", "15"], ["Belarus", "340", "42"],
                 ["Kazakhstan", "410", "57"]])
        lead = ("Состав сил, привлечённых к учению, приведён в таблице." if ru else
                "The composition of the forces involved in the exercise is shown in the table.")
        tail = ("Учение завершилось практическими действиями на полигоне." if ru else
                "The exercise ended with practical actions at the training ground.")
        return [("p", [lead]), ("table", rows), ("p", [tail])]
    if art.role == "pdf":
        text = ("Совет коллективной безопасности ОДКБ принял заявление. Полный текст заявления прилагается." if ru
                else "The CSTO Collective Security Council adopted a statement. The full text is attached.")
        return [("p", [text]), ("pdf", "/upload/docs/Заявление СКБ ОДКБ от 16 мая 2022.pdf",
                                texts.UI[art.language]["statement"]), ("sig", texts.UI[art.language]["signature"])]
    if art.role == "broken":
        if ru:
            paras = ["Сотрудничество в сфере науки & техники обсудили эксперты государств-членов.",
                     "Участники отметили", "высокий уровень подготовки & организации встречи.",
                     "Рабочая группа продолжит работу.", "Итоговый документ будет опубликован позднее."]
        else:
            paras = ["Experts of the member states discussed cooperation in science & technology.",
                     "The participants noted", "the high level of preparation & organization of the meeting.",
                     "The working group will continue its work.", "The final document will be published later."]
        return [("broken", paras)]
    return None
