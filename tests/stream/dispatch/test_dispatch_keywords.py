"""The 110 keyword table: a call's category text (then its free text) → a responsibility item."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.dispatch.keywords import BUNDLED_KEYWORDS, KeywordTable, load_keywords
from stream.dispatch.responsibility import ListRefused
from tests.stream.dispatch.test_dispatch_responsibility import LIST

TABLE = load_keywords(None, LIST)


@pytest.mark.parametrize(("category", "text", "item"), [
    ("噪音扰民", "", "ENV-007"), ("暖气不热", "家里只有十四度", "HEA-001"), ("求助", "楼下井盖没了", "MUN-001"),
    ("森林着火", "", "FOR-001"), ("着火", "", "FIR-001"),  # the longest keyword wins: 森林着火 over 着火
    ("其他", "江边有人掉进冰窟窿了", "ICE-004"), ("燃气", "闻到煤气味", "UTL-001"),
    ("Noise", "", None), ("咨询", "问一下户口怎么迁", None),
])
def test_calls_map_to_items_category_first(category: str, text: str, item: str | None) -> None:
    match = TABLE.match(category, text)
    assert (match.item_code if match else None) == item


def test_the_category_wins_over_the_text() -> None:
    match = TABLE.match("停水", "暖气也不热")
    assert match is not None and (match.item_code, match.keyword, match.field) == ("UTL-003", "停水", "category")


def test_every_keyword_names_an_item_of_the_list() -> None:
    assert len(TABLE.entries) > 200 and all(LIST.item(code) for _, code in TABLE.entries)


def _write(path: Path, rows: str) -> Path:
    path.write_text("keyword,item_code\n" + rows, encoding="utf-8")
    return path


@pytest.mark.parametrize(("rows", "line", "field", "words"), [
    ("噪音,ENV-007\n噪音,ENV-006\n", 3, "keyword", "duplicate: already on line 2"),
    ("噪音,ENV-999\n", 2, "item_code", "not an item of responsibilities.csv"),
    ("噪音,ENV-007\n,ENV-007\n", 3, "keyword", "empty"),
])
def test_a_broken_table_is_refused_naming_line_and_field(tmp_path: Path, rows: str, line: int, field: str,
                                                         words: str) -> None:
    with pytest.raises(ListRefused) as info:
        load_keywords(_write(tmp_path / "k.csv", rows), LIST)
    assert (info.value.line, info.value.field) == (line, field) and words in str(info.value)


def test_ties_keep_table_order() -> None:
    table = KeywordTable((("ab", "X"), ("bc", "Y")))
    assert table.match("abc").item_code == "X"  # type: ignore[union-attr]
    assert BUNDLED_KEYWORDS.is_file()
