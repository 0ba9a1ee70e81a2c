"""The dependency direction of the design card, and the web error mapping."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


# --- The module graph (issue 29): a layer order, no import circle, no private name borrowed
# from another package. Every import counts, the ones inside functions too (a lazy import is
# still a dependency); only ``if TYPE_CHECKING:`` blocks, which never run, are left out.

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("archive_service", "cli", "signing", "retention")

#: The layers, lowest first; a module may import only from its own layer or lower ones.
#: ``interface``: what people and scripts call (CLI, web pages, API, the app); ``services``:
#: the domain modules; ``libraries``: the pure libraries; ``base``: database, storage,
#: configuration, errors, the acting person, and the audit chain that every unit of work
#: appends to (with the models it writes).
BASE = {"archive_service", "archive_service.db", "archive_service.config",
        "archive_service.errors", "archive_service.actors", "archive_service.orm",
        "archive_service.audit", "archive_service.audit.chain", "archive_service.audit.models"}
LAYERS = ("base", "libraries", "services", "interface")


def _layer(module: str) -> str:
    if module in BASE or module.startswith("archive_service.storage"):
        return "base"
    if module.split(".")[0] in ("signing", "retention"):
        return "libraries"
    if module.split(".")[0] == "cli" or module in (
            "archive_service.app", "archive_service.web", "archive_service.api") \
            or module.endswith(".blueprint"):
        return "interface"
    return "services"


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, modules: dict[str, Path]):
    """(imported module, names) for every import of a file that runs."""
    import ast

    tree = ast.parse(path.read_text("utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for child in node.body for n in ast.walk(child)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in modules:
                    yield full, []
                elif node.module in modules:
                    yield node.module, [alias.name]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    yield alias.name, []


def _graph() -> dict[str, dict[str, list[str]]]:
    modules = _modules()
    graph: dict[str, dict[str, list[str]]] = {m: {} for m in modules}
    for module, path in modules.items():
        for target, names in _imports(path, modules):
            if target != module:
                graph[module].setdefault(target, []).extend(names)
    return graph


def test_every_import_goes_down_the_layers():
    wrong = [f"{a} ({_layer(a)}) imports {b} ({_layer(b)})"
             for a, targets in _graph().items() for b in targets
             if LAYERS.index(_layer(b)) > LAYERS.index(_layer(a))]
    assert wrong == []


def test_the_module_graph_has_no_circle():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert circles == []


def test_no_private_name_is_imported_from_another_package():
    def package(module: str) -> str:
        return ".".join(module.split(".")[:2])

    borrowed = [f"{a} imports {b}.{name}" for a, targets in _graph().items()
                for b, names in targets.items() for name in names
                if name.startswith("_") and package(a) != package(b)]
    assert borrowed == []
