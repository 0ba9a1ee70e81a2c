"""Telling the kind of an uploaded file by its bytes (journals.sheets)."""

import pytest


@pytest.mark.parametrize("name,data,says", [
    ("7А.xlsx", b"", "файл пуст (0 байт)"), ("7А.json", b"  \n", "файл пуст"),
    ("7А.xls", b"%PDF-1.7 ...", "это документ PDF"),
    ("7А.xlsx", b"\x89PNG\r\n\x1a\n....", "это изображение"),
    ("7А.doc", b"{\\rtf1\\ansi ...}", "это документ RTF"),
    ("7А.xml", b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:'
               b'spreadsheet">', "таблица XML Excel 2003"),
    ("7А.bin", b"\x00\x01\x02", "двоичный файл неизвестного вида (.bin)"),
])
def test_a_file_of_an_unknown_kind_is_named_with_what_is_accepted(name, data, says):
    from archive_service.errors import ImportRejectedError
    from archive_service.journals.sheets import kind_of

    with pytest.raises(ImportRejectedError) as info:
        kind_of(name, data)
    assert says in info.value.message and "принимаются" in info.value.message or \
        "файл пуст" in info.value.message, info.value.message


def test_the_kind_is_told_by_the_bytes_not_the_name():
    from archive_service.journals.sheets import kind_of

    assert kind_of("7А.xls", b"<html><body><table><tr><td>1</td></tr></table>") == "html"
    assert kind_of("7А.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest") == "workbook"
    assert kind_of("7А.txt", "Лист;Класс\n".encode("cp1251")) == "csv"
    assert kind_of("7А.dat", b'\xef\xbb\xbf{"format": "school-journal/1"}') == "json"
