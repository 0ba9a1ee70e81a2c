"""Telling the kind of an uploaded file by its bytes (journals.sheets)."""

import re

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


def _sparse_workbook(path, *, row_refs: bool = True):
    """A workbook of a few KB whose one sheet spans A1:XFD1048576 (two cells), as openpyxl
    writes it; without ``row_refs`` the rows lose their numbers (the cells keep theirs)."""
    import io
    import zipfile

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Класс"
    wb.active["A1"] = "Школа"
    wb.active["XFD1048576"] = "x"
    wb.save(path)
    if not row_refs:
        source = zipfile.ZipFile(path)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename.startswith("xl/worksheets/"):
                    data = re.sub(rb'<row r="[0-9]+"', b"<row", data)
                    data = re.sub(rb"<dimension [^>]*/>", b"", data)
                target.writestr(info, data)
        path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize("row_refs", [True, False])
def test_a_sparse_workbook_spanning_a_whole_sheet_is_refused_before_it_is_read(
        tmp_path, row_refs):
    """python-calamine allocates a sheet's whole used range at once: for A1:XFD1048576 that
    is 550 GB and the process aborts (no exception). The file is refused first."""
    from archive_service.errors import ImportRejectedError
    from archive_service.journals.service import read_document

    path = _sparse_workbook(tmp_path / "журнал.xlsx", row_refs=row_refs)
    assert path.stat().st_size < 8000
    with pytest.raises(ImportRejectedError) as info:
        read_document(path)
    [problem] = info.value.problems
    assert problem.file == "журнал.xlsx"
    assert problem.message.startswith("лист «Класс» занимает диапазон A1:XFD1048576 (17")
    assert "не бывает больше 2\u00a0000\u00a0000 ячеек" in problem.message


def _ods(path, rows: str):
    """An OpenDocument spreadsheet of a few hundred bytes with the given table rows."""
    import zipfile

    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Класс">'
        f"{rows}</table:table></office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", "<x/>")  # what the reader recognises ODS by
    return path


def _cell(text: str, repeat: int = 1) -> str:
    return (f'<table:table-cell table:number-columns-repeated="{repeat}" '
            f'office:value-type="string"><text:p>{text}</text:p></table:table-cell>')


def test_an_opendocument_sheet_repeating_a_cell_over_the_sheet_is_refused(tmp_path):
    """One cell «repeated» 6,000 rows × 16,384 columns is 98 million cells: python-calamine
    aborted the process allocating them (exit 134 under a 3 GB limit, checked by hand). The
    empty repeated rows and columns LibreOffice writes to the sheet's end do not count."""
    from archive_service.errors import ImportRejectedError
    from archive_service.journals.service import read_document

    bomb = _ods(tmp_path / "журнал.ods",
                f'<table:table-row table:number-rows-repeated="6000">{_cell("x", 16384)}'
                "</table:table-row>")
    assert bomb.stat().st_size < 2000
    with pytest.raises(ImportRejectedError) as info:
        read_document(bomb)
    assert info.value.problems[0].message.startswith(
        "лист «Класс» занимает диапазон A1:XFD6000 (98\u00a0304\u00a0000 ячеек)")
    tail = ('<table:table-row table:number-rows-repeated="1048570"><table:table-cell '
            'table:number-columns-repeated="16384"/></table:table-row>')
    ordinary = _ods(tmp_path / "обычный.ods",
                    f"<table:table-row>{_cell('ФИО')}{_cell('1')}"
                    '<table:table-cell table:number-columns-repeated="16382"/>'
                    f"</table:table-row>{tail}")
    from archive_service.journals.sheets import read_sheets

    _fmt, [sheet] = read_sheets(ordinary.name, ordinary.read_bytes(), "workbook")
    assert sheet.rows[0][:2] == ("ФИО", "1")


def test_a_legacy_xls_with_two_cells_far_apart_is_refused_before_it_is_read():
    """tests/journals/oversized/two-far-cells.xls (5.6 KB, written with xlwt: «a» in A1 and
    «b» in IV65536): the reader held 16.7 million cells for it (1 GB resident, measured with
    /usr/bin/time); refused now from the workbook stream's records (34 MB resident)."""
    from pathlib import Path

    from archive_service.errors import ImportRejectedError
    from archive_service.journals.service import read_document

    path = Path(__file__).parent / "oversized" / "two-far-cells.xls"
    with pytest.raises(ImportRejectedError) as info:
        read_document(path)
    assert info.value.problems[0].message.startswith(
        "лист «Класс» занимает диапазон A1:IV65536 (16\u00a0777\u00a0216 ячеек)")


def test_an_oversized_range_the_pre_checks_miss_is_refused_before_conversion(monkeypatch):
    """The last guard: the range the reader built is measured before a Python object is made
    for each of its cells."""
    from pathlib import Path

    from archive_service.errors import ImportRejectedError
    from archive_service.journals import sheets

    monkeypatch.setattr(sheets, "_check_xls_extent", lambda name, data: None)
    data = (Path(__file__).parent / "oversized" / "two-far-cells.xls").read_bytes()
    with pytest.raises(ImportRejectedError) as info:
        sheets.read_sheets("two-far-cells.xls", data, "workbook")
    assert "занимает 65\u00a0536 строк × 256 столбцов" in info.value.problems[0].message


def test_a_file_larger_than_a_journal_is_refused_unread(tmp_path):
    from archive_service.errors import ImportRejectedError
    from archive_service.journals.service import parse_document, read_document
    from archive_service.journals.sheets import MAX_FILE

    big = tmp_path / "выгрузка.json"
    with big.open("wb") as f:
        f.truncate(MAX_FILE + 1)
    for call in (lambda: read_document(big), lambda: parse_document(big.name, b"{" * (MAX_FILE + 1))):
        with pytest.raises(ImportRejectedError) as info:
            call()
        assert "принимается до 64 МиБ" in info.value.problems[0].message


def test_a_sheet_kept_outside_the_worksheets_folder_is_checked_too(tmp_path):
    """The workbook's relationships may put a sheet anywhere in the package; the reader
    follows them, so the check does too."""
    import io
    import zipfile

    from archive_service.errors import ImportRejectedError
    from archive_service.journals.service import read_document

    path = _sparse_workbook(tmp_path / "журнал.xlsx")
    source = zipfile.ZipFile(path)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            name = info.filename.replace("xl/worksheets/sheet1.xml", "xl/hidden/data.xml")
            data = data.replace(b"worksheets/sheet1.xml", b"hidden/data.xml")
            target.writestr(name, data)
    path.write_bytes(out.getvalue())
    with pytest.raises(ImportRejectedError, match="лист «Класс» занимает диапазон A1:XFD1048576"):
        read_document(path)


def test_a_sheet_unpacking_past_the_bound_is_refused(tmp_path, monkeypatch):
    """The bound on a sheet's unpacked XML (256 MiB), shown at 1 MiB on a real workbook."""
    import openpyxl

    from archive_service.errors import ImportRejectedError
    from archive_service.journals import sheets
    from archive_service.journals.service import read_document

    wb = openpyxl.Workbook()
    wb.active.title = "Алгебра"
    for row in range(1, 2001):
        wb.active.append([f"текст {row}-{col}" for col in range(20)])
    wb.save(tmp_path / "большой.xlsx")
    monkeypatch.setattr(sheets, "MAX_SHEET_XML", 1 << 20)
    with pytest.raises(ImportRejectedError,
                       match="лист «Алгебра» распаковывается больше чем в 1 МиБ"):
        read_document(tmp_path / "большой.xlsx")
