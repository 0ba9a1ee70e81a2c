"""The path answers and object dependencies of ``signing.paths`` against pyHanko's own.

For every revision of untouched, tampered and differently built signed copies, every object
any revision defines (and one no revision does) is asked about through the installed answers
and through pyHanko's whole-file walk on a fresh reader; the answers must be equal. So must
the dependencies of every object, with and without pyHanko's "only newer objects" limit.
"""

from __future__ import annotations

import io

import pikepdf
import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader

from signing import paths
from signing.reader import SignedFileReader
from signing.verify import verify_pdf
from tests.support.signing import (
    append_update,
    draw_over_first_page,
    sign_chain,
    stick_a_note,
    swap_first_pages,
    unsign,
)


def _fields(unsigned, *names):
    by_name = {f.name: f for f in unsigned[1]}
    return [by_name[n] for n in names]


def _with_structure_tree_and_object_streams(pdf: bytes) -> bytes:
    """The copy saved with object streams and a cross-reference stream, with a structure
    tree whose elements point at the first page and the first signature field (the parts
    of pyHanko's walk our own copies never reach)."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        field = doc.Root.AcroForm.Fields[0]
        page = doc.pages[0].obj
        form = doc.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructElem, S=pikepdf.Name.Form, Pg=page,
            K=pikepdf.Dictionary(Type=pikepdf.Name.OBJR, Obj=field, Pg=page)))
        document = doc.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructElem, S=pikepdf.Name.Document, K=pikepdf.Array([form])))
        form.P = document
        root = doc.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.StructTreeRoot, K=document,
            ParentTree=pikepdf.Dictionary(Nums=pikepdf.Array([0, form]))))
        document.P = root
        doc.Root.StructTreeRoot = root
        out = io.BytesIO()
        doc.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return out.getvalue()


@pytest.fixture(scope="module")
def documents(unsigned, school):
    """Signed copies, some tampered with afterwards, by name."""
    root, timestamper = school
    pdf, fields = unsigned
    sealed = sign_chain(pdf, fields, root, timestamper)
    partial = sign_chain(pdf, _fields(unsigned, "teacher_1", "teacher_2", "class_leader"),
                         root, timestamper)
    tagged = sign_chain(_with_structure_tree_and_object_streams(pdf),
                        _fields(unsigned, "teacher_1", "teacher_2"), root, timestamper)
    return {
        "sealed": sealed,
        "note on the sealed copy": append_update(sealed, stick_a_note),
        "page drawn over": append_update(partial, draw_over_first_page),
        "signature taken out": append_update(partial, unsign("teacher_2")),
        "pages swapped": append_update(partial, swap_first_pages),
        "structure tree, object streams": append_update(tagged, draw_over_first_page),
    }


def _every_reference(reader: PdfFileReader) -> list[generic.Reference]:
    keys = set()
    for revision in range(reader.xrefs.total_revisions):
        keys |= {(r.idnum, r.generation) for r in reader.xrefs.explicit_refs_in_revision(revision)}
    keys.add((max(k[0] for k in keys) + 100, 0))  # in no revision at all
    return [generic.Reference(*key) for key in sorted(keys)]


def _pyhanko_usages(pdf: bytes, revision: int):
    resolver = PdfFileReader(io.BytesIO(pdf)).get_historical_resolver(revision)
    resolver._load_reverse_xref_cache()
    return resolver


NAMES = ["sealed", "note on the sealed copy", "page drawn over", "signature taken out",
         "pages swapped", "structure tree, object streams"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("reader_class", [SignedFileReader, PdfFileReader])
def test_every_answer_about_paths_is_pyhankos(documents, name, reader_class):
    pdf = documents[name]
    reader = reader_class(io.BytesIO(pdf))
    graph = paths.ObjectGraph(reader)
    refs = _every_reference(reader)
    revisions = list(range(reader.xrefs.total_revisions))
    if reader_class is PdfFileReader:
        revisions.reverse()  # the answers may not depend on the order they are asked in
    for revision in revisions:
        resolver = reader.get_historical_resolver(revision)
        assert paths.install(graph, resolver)
        theirs = _pyhanko_usages(pdf, revision)
        for ref in refs:
            assert resolver._get_usages_of_ref(ref) == theirs._get_usages_of_ref(ref), (
                name, revision, ref)


@pytest.mark.parametrize("name", NAMES)
def test_the_dependencies_of_every_object_are_pyhankos(documents, name):
    pdf = documents[name]
    reader = SignedFileReader(io.BytesIO(pdf))
    graph = paths.ObjectGraph(reader)
    theirs_reader = PdfFileReader(io.BytesIO(pdf))
    for revision in range(reader.xrefs.total_revisions):
        resolver = reader.get_historical_resolver(revision)
        theirs = theirs_reader.get_historical_resolver(revision)
        paths.install(graph, resolver)
        objects = [(resolver.trailer_view, theirs.trailer_view)] + [
            (resolver(ref), theirs(ref)) for ref in reader.xrefs.explicit_refs_in_revision(revision)]
        for ours_obj, theirs_obj in objects:
            for since in (None, revision):
                assert (resolver.collect_dependencies(ours_obj, since_revision=since)
                        == HistoricalResolver.collect_dependencies(theirs, theirs_obj,
                                                                   since_revision=since))


def test_a_tagged_copy_with_object_streams_still_verifies(documents, school):
    """The copy the structure tree and object streams were added to before signing."""
    root, _ts = school
    tagged = documents["structure tree, object streams"]
    result = verify_pdf(tagged, roots=[root.certificate])
    assert {s.field for s in result.signatures} == {"teacher_1", "teacher_2"}
    assert {s.field for s in result.broken()} == {"teacher_1", "teacher_2"}  # drawn over


def test_it_is_in_place_in_pyhankos_resolver(documents):
    """If a pyHanko upgrade renames what this answers through, this fails: look again."""
    reader = PdfFileReader(io.BytesIO(documents["sealed"]))
    resolver = reader.get_historical_resolver(1)
    assert paths.install(paths.ObjectGraph(reader), resolver)
    assert isinstance(resolver._indirect_object_access_cache, dict)
    resolver._load_reverse_xref_cache()  # pyHanko's own: must see the answers as loaded
    assert isinstance(resolver._indirect_object_access_cache, paths._Usages)


def _shape(obj, resolver):
    """An object copied into a revision's view: types, values, where references point and
    what each container says it belongs to."""
    def container(o):
        ref = o.container_ref
        return None if ref is None else (getattr(ref, "idnum", None),
                                         getattr(ref, "generation", None),
                                         getattr(ref, "pdf", None) is resolver)
    if isinstance(obj, generic.IndirectObject):
        return ("ref", obj.idnum, obj.generation, obj.get_pdf_handler() is resolver)
    if isinstance(obj, generic.DictionaryObject):
        return (type(obj).__name__, container(obj),
                {k: _shape(v, resolver) for k, v in obj.items()},
                obj.encoded_data if isinstance(obj, generic.StreamObject) else None)
    if isinstance(obj, generic.ArrayObject):
        return ("array", container(obj), [_shape(v, resolver) for v in obj])
    return (type(obj).__name__, bytes(obj) if isinstance(obj, bytes) else obj)


@pytest.mark.parametrize("name", NAMES)
def test_objects_copied_into_a_revision_are_pyhankos(documents, name):
    pdf = documents[name]
    ours, theirs = SignedFileReader(io.BytesIO(pdf)), PdfFileReader(io.BytesIO(pdf))
    graph = paths.ObjectGraph(ours)
    for revision in range(ours.xrefs.total_revisions):
        mine, library = (ours.get_historical_resolver(revision),
                         theirs.get_historical_resolver(revision))
        paths.install(graph, mine)
        assert "_subsume_object" in vars(mine)
        for ref in ours.xrefs.explicit_refs_in_revision(revision):
            assert _shape(mine(ref), mine) == _shape(library(ref), library), (revision, ref)


def test_release_takes_back_what_install_put_on_the_views(documents):
    reader = PdfFileReader(io.BytesIO(documents["sealed"]))
    graph = paths.ObjectGraph(reader)
    resolver = reader.get_historical_resolver(1)
    assert paths.install(graph, resolver)
    resolver._get_usages_of_ref(generic.Reference(1, 0))  # answered, so something is kept
    graph.release()
    assert resolver._indirect_object_access_cache is None
    assert "collect_dependencies" not in vars(resolver)
    assert "_subsume_object" not in vars(resolver)
    assert not graph.installed
