"""The 110 keyword table: a call's free-text category (and text) → a responsibility item.

``stream/dispatch/data/keywords_110.csv`` has one ``keyword,item_code`` row per
keyword (format in docs/dispatch.md). A call's category text is searched first,
then its free text; the longest keyword found wins, and between keywords of the
same length the earlier row. A call no keyword matches goes to the dispatcher
queue: it is never dropped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from stream.dispatch.responsibility import DATA_DIR, ListRefused, ResponsibilityList
from stream.errors import ConfigError

BUNDLED_KEYWORDS = DATA_DIR / "keywords_110.csv"


@dataclass(frozen=True)
class Match:
    item_code: str
    keyword: str
    field: str
    """Where the keyword was found: ``category`` or ``text``."""


@dataclass(frozen=True)
class KeywordTable:
    entries: tuple[tuple[str, str], ...]
    """(keyword, item code), longest keyword first, table order among equals."""

    def match(self, category: str, text: str = "") -> Match | None:
        for field, value in (("category", category), ("text", text)):
            folded = value.casefold()
            for keyword, item_code in self.entries:
                if keyword in folded:
                    return Match(item_code, keyword, field)
        return None


def load_keywords(path: Path | None, responsibilities: ResponsibilityList) -> KeywordTable:
    """Read and check a table (None: the bundled one): every item code must be in the list, no keyword twice."""
    path = path or BUNDLED_KEYWORDS
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            if tuple(reader.fieldnames or ())[:2] != ("keyword", "item_code"):
                raise ListRefused(path.name, 1, "keyword", ",".join(reader.fieldnames or ()),
                                  "the header must start keyword,item_code")
            rows = list(enumerate(reader, start=2))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"110 keyword table {path}: cannot be read ({exc})") from None
    seen: dict[str, int] = {}
    entries: list[tuple[str, str]] = []
    for line, row in rows:
        keyword, item_code = (row.get("keyword") or "").strip().casefold(), (row.get("item_code") or "").strip()
        if not keyword:
            raise ListRefused(path.name, line, "keyword", keyword, "empty")
        if keyword in seen:
            raise ListRefused(path.name, line, "keyword", keyword, f"duplicate: already on line {seen[keyword]}")
        if responsibilities.item(item_code) is None:
            raise ListRefused(path.name, line, "item_code", item_code, f"not an item of {responsibilities.source}")
        seen[keyword] = line
        entries.append((keyword, item_code))
    order = {keyword: i for i, (keyword, _) in enumerate(entries)}
    return KeywordTable(tuple(sorted(entries, key=lambda e: (-len(e[0]), order[e[0]]))))
