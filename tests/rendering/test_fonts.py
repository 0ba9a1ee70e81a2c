"""Line breaking of the rendered copies: Russian hyphenation, nothing dropped."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from archive_service.rendering.fonts import SANS_BOLD, register, width, wrap

register()


def test_a_word_wider_than_its_column_is_hyphenated_by_the_russian_rules():
    assert wrap("Обществознание", SANS_BOLD, 6.5, 40) == ("Общество-", "знание")
    assert wrap("Основы безопасности жизнедеятельности", SANS_BOLD, 6.5, 40)[-2:] == (
        "жизнедея-", "тельности")
    # A word with its own hyphen breaks there first, without another one.
    assert wrap("учебно-воспитательной", SANS_BOLD, 6.5, 45)[0].startswith("учебно-")


def test_a_word_with_no_hyphenation_point_that_fits_is_still_broken_with_a_hyphen():
    lines = wrap("1234567890123456789012", SANS_BOLD, 6.5, 20)
    assert all(line.endswith("-") for line in lines[:-1])
    assert "".join(line.rstrip("-") for line in lines) == "1234567890123456789012"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="абвгдежзийклмнопрстуфхцчшщыьэюяАБВ-0123456789", min_size=1,
                        max_size=30), min_size=1, max_size=8),
       st.floats(min_value=12, max_value=200))
def test_no_text_is_dropped_and_every_line_fits(words, column):
    lines = wrap(" ".join(words), SANS_BOLD, 7, column)
    # Every letter is kept, in order (hyphens added at breaks aside).
    joined = "".join(lines).replace("-", "").replace(" ", "")
    assert joined == "".join(words).replace("-", "")
    assert all(width(line, SANS_BOLD, 7) <= column or len(line.rstrip("-")) <= 1
               for line in lines)
