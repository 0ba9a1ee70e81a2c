"""The dependency direction of the design card, and the web error mapping."""

from __future__ import annotations

import subprocess
import sys

import pytest

from archive_service import errors as e
from archive_service.app import create_app, status_for
from cli.errors import exit_code_for


@pytest.mark.parametrize("library", ["signing", "retention"])
def test_pure_libraries_import_no_framework(library):
    code = (f"import sys, {library}; "
            "bad = [m for m in ('flask', 'sqlalchemy', 'archive_service') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_services_do_not_import_flask():
    code = ("import sys, archive_service.journals.service, archive_service.snapshots.service, "
            "archive_service.checks.service; sys.exit('flask' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_every_domain_error_has_a_status_and_an_exit_code():
    def leaves(cls):
        subs = cls.__subclasses__()
        return [cls] + [x for s in subs for x in leaves(s)]

    for cls in leaves(e.ArchiveError):
        error = cls.__new__(cls)
        Exception.__init__(error, "x")
        error.message = "x"
        assert status_for(error) >= 400
        assert exit_code_for(error) >= 1


def test_health_and_error_mapping(sqlite_archive):
    app = create_app({"ARCHIVE": sqlite_archive, "TESTING": True})

    @app.get("/api/v1/boom")
    def boom():
        raise e.NotFoundError("Класс 9Я не найден.")

    @app.get("/boom")
    def page_boom():
        raise e.PermissionDeniedError("Нет доступа к 9Я.")

    client = app.test_client()
    health = client.get("/health").get_json()
    assert health["status"] == "ok" and health["database"] == "sqlite"
    response = client.get("/api/v1/boom")  # the API answers JSON
    assert response.status_code == 404
    assert response.get_json()["message"] == "Класс 9Я не найден."
    page = client.get("/boom")  # a page answers with a page in Russian
    assert page.status_code == 403 and "Нет доступа к 9Я." in page.get_data(as_text=True)
