"""pyHanko's questions about the objects of an older revision, answered with less reading.

pyHanko's change analysis asks the older revision of each pair of revisions, for every
object the newer one rewrote (and for every form field and appearance it looks at), by which
paths from the trailer that object was reached (``HistoricalResolver._get_usages_of_ref``).
To answer the first such question, ``_load_reverse_xref_cache`` walks the revision's whole
object graph and records the paths to every object in it: every object of the revision read
and copied into the revision's view, every number of every font's width table visited. A
journal copy with 21 signatures has 24 revisions, so the whole file was walked 24 times. It
also asks, for
objects a revision adds, which newer objects they depend on (``collect_dependencies``),
visiting every value of every new object one call at a time.

``ObjectGraph`` gives the same answers and walks far less:

- Which objects an object refers to is read once per *version* of the object (a version is
  the xref section that last wrote it), for the whole file, from the object as parsed
  (``ObjectGraph.raw``), not from a copy made for each revision. For each revision the
  objects that refer to each object (``referrers``) are worked out from the previous
  revision's: only objects with another version are read again, and what they newly lead
  to. From these, the objects from which the object asked about can be reached (its
  ancestors) are found by going backwards.
- The paths to an object are then found by pyHanko's own walk, with its rules as they are
  (a reference already on the path is not followed again; a page-tree node only by its
  canonical path through the tree; the structure tree only from ``/Root /StructTreeRoot
  /K``; ``/Parent`` never, ``/P`` not inside the structure tree), except that it enters only
  objects that lead to one of the objects asked about. Those rules only ever stop the walk,
  and what stops it depends only on the path walked so far, so leaving out objects from
  which no target can be reached changes none of the paths that end at a target; every
  object that leads to a target has all its own ancestors in the walk too, so its paths are
  complete as well and are kept. The references used for the ancestors are all references
  an object holds except under ``/Parent`` keys (which the walk never follows): a superset
  of what the walk can follow. One walk per revision serves the form's fields and every
  object asked about in an earlier revision (pyHanko asks the same questions of each).
- Dependencies are collected from the parsed objects, iteratively, looking only at values
  that can hold a reference.

``tests/signing/test_paths.py`` compares the answers, for every object of every revision,
asked in both orders, with pyHanko's own on untouched and tampered signed copies, one with a
structure tree and object streams. ``install(graph, resolver)`` puts the answers where pyHanko
reads them from; if a pyHanko upgrade renames that place, nothing is installed (pyHanko does
the work itself, only slower) and the test fails so that someone looks.

The walk is adapted from pyHanko's ``HistoricalResolver._load_reverse_xref_cache`` (MIT
licence, pyHanko 0.38).
"""

from __future__ import annotations

import bisect
import functools
from typing import Any

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader, RawPdfPath
from pyhanko.pdf_utils.xref import ObjStreamRef

from signing import speedups  # noqa: F401  (installs the faster readers into pyHanko)

_CACHE_ATTRIBUTE = "_indirect_object_access_cache"
_Key = tuple[int, int]  # (object number, generation)
_TRAILER: _Key = (-1, -1)  # the trailer, as a node of the graph
# What can hold a reference; pyHanko's walk passes over every other value without effect.
_CONTAINERS = (generic.IndirectObject, generic.DictionaryObject, generic.ArrayObject)
_STRUCT_TREE_ROOT = ("/Root", "/StructTreeRoot")  # below its /K: the structure tree
# The page-tree nodes with their canonical paths, and the structure elements.
_Trees = tuple[dict[_Key, tuple], set[_Key]]


class ObjectGraph:
    """The references between the objects of one file, per version of each object."""

    def __init__(self, reader: PdfFileReader) -> None:
        self.reader = reader
        self._sections = [reader.xrefs.get_xref_data(r)
                          for r in range(reader.xrefs.total_revisions)]
        self._versions: dict[_Key, tuple[list[int], list[Any]]] = {}
        self._references: dict[tuple[_Key, int, Any], frozenset[_Key]] = {}
        self._raw: dict[tuple[_Key, int, Any], Any] = {}
        self._states: dict[int, _Referrers] = {}
        self._naming: tuple[dict[int, list[int]], list[int]] | None = None
        self._revisions: dict[int, RevisionPaths] = {}
        self.asked: set[_Key] = set()  # objects pyHanko asked about, in any revision
        # The last page and structure trees read: (the catalog's /Pages and /StructTreeRoot,
        # [(object, version) read], the trees).
        self.trees: tuple[tuple[Any, ...], list[tuple[_Key, Any]], Any] | None = None
        self.installed: list[HistoricalResolver] = []  # the views ``install`` changed

    def release(self) -> None:
        """Take back what ``install`` put on the revisions' views and let go of what was
        read: those hold the views in turn, a cycle only Python's collector would free."""
        for resolver in self.installed:
            own = vars(resolver)
            if isinstance(own.get(_CACHE_ATTRIBUTE), _Usages):
                own[_CACHE_ATTRIBUTE] = None
            own.pop("collect_dependencies", None)
            own.pop("_subsume_object", None)
        self.installed.clear()
        self._revisions.clear()
        self._raw.clear()
        self._references.clear()
        self._states.clear()
        self.trees = None

    def revision(self, resolver: HistoricalResolver) -> RevisionPaths:
        """The paths of one revision (``resolver`` is the reader's view of it)."""
        paths = self._revisions.get(resolver.revision)
        if paths is None or paths.resolver is not resolver:
            paths = self._revisions[resolver.revision] = RevisionPaths(self, resolver)
        return paths

    def _version(self, key: _Key, revision: int) -> tuple[int, Any] | None:
        """The xref section that holds the object as of ``revision``, and what it says there
        (pyHanko's ``XRefCache.get_historical_ref``, worked out once per object)."""
        versions = self._versions.get(key)
        if versions is None:
            ref = generic.Reference(*key)
            versions = self._versions[key] = ([], [])
            for number in self._sections_naming(key[0]):
                data = self._sections[number]
                try:
                    marker = data.try_resolve(ref)
                except KeyError:
                    continue
                versions[0].append(number)
                versions[1].append(marker)
        at = bisect.bisect_right(versions[0], revision)
        if not at:
            return None
        section, marker = versions[0][at - 1], versions[1][at - 1]
        if isinstance(marker, ObjStreamRef):
            # An object in an object stream: its bytes depend on that stream's version too.
            return section, (marker, self._version((marker.obj_stream_id, 0), revision))
        return section, marker

    def _sections_naming(self, idnum: int) -> list[int]:
        """The xref sections that may resolve object number ``idnum``, in order: those with
        an entry for it (in use, in an object stream, or freed) and those with a hybrid
        part; ``try_resolve`` refuses it in every other one without looking further. All of
        them if a section does not show its entries the way pyHanko 0.38 keeps them."""
        if self._naming is None:
            naming: dict[int, list[int]] = {}
            everywhere: list[int] = []
            for number, data in enumerate(self._sections):
                try:
                    entries = (set(data.standard_xrefs) | set(data.xrefs_in_objstm)
                               | set(data.freed))
                    hybrid = data.hybrid is not None
                except AttributeError:
                    entries, hybrid = set(), True
                if hybrid:
                    everywhere.append(number)
                for number_named in entries:
                    naming.setdefault(number_named, []).append(number)
            self._naming = (naming, everywhere)
        naming, everywhere = self._naming
        named = naming.get(idnum, [])
        return sorted(set(named) | set(everywhere)) if everywhere else named

    def raw(self, key: _Key, resolver: HistoricalResolver) -> Any:
        """The object as of the revision of ``resolver``, as parsed from the file: read once
        per version, and not copied into the revision's view as ``resolver(ref)`` copies it.

        Only what holds references is read from it (dictionaries, arrays, references), which
        encryption leaves as it is. An object the revision does not have is read through
        ``resolver``, which answers as pyHanko does (null, or an error in strict mode).
        """
        version = self._version(key, resolver.revision)
        if version is None:
            return resolver(generic.Reference(*key, resolver))
        cache_key = (key, *version)
        obj = self._raw.get(cache_key)
        if obj is None:
            obj = self.reader.get_object(generic.Reference(*key, self.reader),
                                         revision=resolver.revision, transparent_decrypt=False)
            if isinstance(obj, generic.DecryptedObjectProxy):
                obj = obj.raw_object
            self._raw[cache_key] = obj
        return obj

    def references(self, key: _Key, resolver: HistoricalResolver) -> frozenset[_Key]:
        """The objects ``key`` refers to in the revision of ``resolver`` (not under
        ``/Parent``)."""
        if key == _TRAILER:
            return _references_in(resolver.trailer_view)
        version = self._version(key, resolver.revision)
        cache_key = (key, *version) if version is not None else None
        found = self._references.get(cache_key) if cache_key is not None else None
        if found is None:
            found = _references_in(self.raw(key, resolver))
            if cache_key is not None:
                self._references[cache_key] = found
        return found

    def referrers(self, resolver: HistoricalResolver) -> dict[_Key, set[_Key]]:
        """For each object, the objects that refer to it in the revision of ``resolver``.

        It covers every object reachable from the trailer, with the references of its
        version in this revision; it may also keep objects that are no longer reachable,
        which only lets a walk enter an object it need not, never miss one. It is worked out
        from the nearest earlier revision already worked out: only the objects that have
        another version now are read again, and what they newly lead to.
        """
        revision = resolver.revision
        state = self._states.get(revision)
        if state is not None:
            return state.referrers
        earlier = [r for r in self._states if r < revision]
        stack: list[_Key] = []
        if earlier:
            start = max(earlier)
            state = self._states[start].copy()
            written = {(ref.idnum, ref.generation)
                       for section in range(start + 1, revision + 1)
                       for ref in self.reader.xrefs.explicit_refs_in_revision(section)}
            for key in sorted(written & state.visited):
                if self._version(key, start) != self._version(key, revision):
                    for child in self._references_at(key, start):
                        state.referrers[child].discard(key)
                    state.visited.discard(key)
                    stack.append(key)
            for child in state.trailer:
                state.referrers[child].discard(_TRAILER)
        else:
            state = _Referrers()
        state.trailer = self.references(_TRAILER, resolver)
        for child in state.trailer:
            state.referrers.setdefault(child, set()).add(_TRAILER)
            stack.append(child)
        while stack:
            key = stack.pop()
            if key in state.visited:
                continue
            state.visited.add(key)
            for child in self.references(key, resolver):
                state.referrers.setdefault(child, set()).add(key)
                if child not in state.visited:
                    stack.append(child)
        self._states[revision] = state
        return state.referrers

    def _references_at(self, key: _Key, revision: int) -> frozenset[_Key]:
        """What ``key`` referred to in ``revision``, as read then."""
        version = self._version(key, revision)
        return frozenset() if version is None else self._references[(key, *version)]


class _Referrers:
    """Who refers to whom in one revision, and the objects whose references are in it."""

    def __init__(self) -> None:
        self.referrers: dict[_Key, set[_Key]] = {}
        self.visited: set[_Key] = set()
        self.trailer: frozenset[_Key] = frozenset()

    def copy(self) -> _Referrers:
        other = _Referrers()
        other.referrers = {key: set(keys) for key, keys in self.referrers.items()}
        other.visited = set(self.visited)
        other.trailer = self.trailer
        return other


def _references_in(obj: Any) -> frozenset[_Key]:
    found: set[_Key] = set()
    stack = [obj]
    while stack:
        obj = stack.pop()
        if isinstance(obj, generic.IndirectObject):
            found.add((obj.idnum, obj.generation))
        elif isinstance(obj, generic.DictionaryObject):
            stack.extend(v for k, v in obj.items() if k != "/Parent")
        elif isinstance(obj, generic.ArrayObject):
            stack.extend(obj)
    return frozenset(found)


_DIRECT = (-2, -2)  # a catalog entry given directly, not by reference


def _key_of(value: Any) -> _Key:
    if isinstance(value, generic.IndirectObject):
        return value.idnum, value.generation
    return _DIRECT


class RevisionPaths:
    """The paths from the trailer to objects of one revision, found when asked for."""

    def __init__(self, graph: ObjectGraph, resolver: HistoricalResolver) -> None:
        self.graph = graph
        self.resolver = resolver
        self._referrers: dict[_Key, set[_Key]] | None = None
        self._trees: _Trees | None = None
        self._known: dict[_Key, set[tuple]] = {}  # paths found, from the trailer on

    def _referrers_of(self) -> dict[_Key, set[_Key]]:
        """Who refers to whom, over every object reachable from the trailer (and perhaps a
        few more: ``ObjectGraph.referrers``)."""
        if self._referrers is None:
            self._referrers = self.graph.referrers(self.resolver)
        return self._referrers

    def ancestors(self, keys: set[_Key]) -> set[_Key]:
        """The objects from which one of ``keys`` can be reached (one of them too, if it is
        on a cycle)."""
        referrers = self._referrers_of()
        found: set[_Key] = set()
        stack = list(keys)
        while stack:
            for parent in referrers.get(stack.pop(), ()):
                if parent not in found:
                    found.add(parent)
                    stack.append(parent)
        found.discard(_TRAILER)
        return found

    def paths_to(self, ref: generic.Reference) -> set[RawPdfPath]:
        """The paths by which pyHanko's walk from the trailer reaches ``ref``."""
        key = (ref.idnum, ref.generation)
        if key not in self._known:
            if key not in self._referrers_of():  # nothing reachable refers to it
                return set()
            self.graph.asked.add(key)
            self._find({key} | self.graph.asked | self._form_fields())
        return {_Path(*p) for p in self._known[key]}

    def _form_fields(self) -> set[_Key]:
        """The fields of the revision's form (its /Fields and their /Kids): pyHanko asks
        where each one is used, so one walk answers for all of them."""
        graph, resolver = self.graph, self.resolver
        fields: set[_Key] = set()
        try:
            form = resolver.root.raw_get("/AcroForm")
            form = graph.raw((form.idnum, form.generation), resolver) if isinstance(
                form, generic.IndirectObject) else form
            stack = [form.raw_get("/Fields")]
        except (KeyError, AttributeError, TypeError):
            return fields
        while stack:
            value = stack.pop()
            if isinstance(value, generic.IndirectObject):
                key = (value.idnum, value.generation)
                if key in fields:
                    continue
                fields.add(key)
                value = graph.raw(key, resolver)
                if isinstance(value, generic.DictionaryObject) and "/Kids" in value:
                    stack.append(value.raw_get("/Kids"))
            elif isinstance(value, generic.ArrayObject):
                stack.extend(value)
        return fields

    def _find(self, targets: set[_Key]) -> None:
        """Find the paths to ``targets`` and to every object that leads to one of them.

        The walk enters only those objects; every object that leads to one of them leads to
        the target too, so the paths found to each are all its paths. The form's fields and
        the objects asked about in other revisions come along (pyHanko asks about every
        form field in every revision), so that one walk per revision answers most questions.
        """
        region = targets | self.ancestors(targets)
        page_tree_objs, struct_tree_objs = self._tree_nodes()
        graph, resolver = self.graph, self.resolver
        found: dict[_Key, set[tuple]] = {key: set() for key in region}
        on_path: set[_Key] = set()

        # pyHanko's _compute_paths_to_refs, entering only objects of the region, not calling
        # itself for values that hold no reference (numbers, names, strings), keeping the
        # objects on the current path in a set instead of searching the path for them, and
        # the path as a tuple from the trailer on (pyHanko keeps a linked list the other way).
        def walk(obj, cur_path, is_struct_tree):
            key = None
            if isinstance(obj, generic.IndirectObject):
                key = (obj.idnum, obj.generation)
                if key in on_path:
                    return
                paths = found.get(key)
                if paths is None:  # leads to none of the targets
                    return
                paths.add(cur_path)
                obj = graph.raw(key, resolver)
                canonical_path = page_tree_objs.get(key)
                if canonical_path is not None and cur_path != canonical_path:
                    return
                if not is_struct_tree and key in struct_tree_objs:
                    return
                on_path.add(key)
            if isinstance(obj, generic.DictionaryObject):
                for k, v in obj.items():
                    if (not isinstance(v, _CONTAINERS) or k == "/Parent"
                            or (is_struct_tree and k == "/P")):
                        continue
                    walk(v, (*cur_path, k),
                         is_struct_tree or (k == "/K" and cur_path == _STRUCT_TREE_ROOT))
            elif isinstance(obj, generic.ArrayObject):
                for ix, v in enumerate(obj):
                    if isinstance(v, _CONTAINERS):
                        walk(v, (*cur_path, ix), is_struct_tree)
            if key is not None:
                on_path.discard(key)

        walk(resolver.trailer_view, (), False)
        self._known.update(found)

    def _tree_nodes(self) -> _Trees:
        """The page-tree nodes with their canonical paths, and the structure elements
        (pyHanko's preparation for its walk, with its checks for circular trees).

        They are worked out again only when an object they were read from has another
        version in this revision (or the catalog names another page tree or structure tree):
        from one signature to the next the page tree does not change.
        """
        if self._trees is not None:
            return self._trees
        graph, resolver, revision = self.graph, self.resolver, self.resolver.revision
        root = resolver.root
        entries = tuple(_key_of(root.raw_get(name)) if name in root else None
                        for name in ("/Pages", "/StructTreeRoot"))
        if graph.trees is not None and _DIRECT not in entries:
            last_entries, read, trees = graph.trees
            if last_entries == entries and all(graph._version(key, revision) == version
                                               for key, version in read):
                self._trees = trees
                return trees
        consulted: list[_Key] = []
        lookup = resolver.get_object

        def recording(ref, *args, **kwargs):
            consulted.append((ref.idnum, ref.generation))
            return lookup(ref, *args, **kwargs)

        resolver.get_object = recording  # every object read on the way, pyHanko's way or ours
        try:
            self._trees = self._read_trees(root)
        finally:
            del resolver.get_object
        graph.trees = (entries, [(key, graph._version(key, revision)) for key in consulted],
                       self._trees)
        return self._trees

    def _read_trees(self, root: generic.DictionaryObject) -> _Trees:

        def page_tree_refs(pages_obj, path):
            for ix, kid in enumerate(pages_obj["/Kids"]):
                kid_path = (*path, "/Kids", ix)
                if isinstance(kid, generic.IndirectObject):
                    yield (kid.idnum, kid.generation), kid_path
                kid = kid.get_object()
                if kid.get("/Type", None) == "/Pages":
                    yield from page_tree_refs(kid, kid_path)

        def struct_tree_refs(struct_elem):
            try:
                children = struct_elem["/K"]
            except KeyError:
                return
            if not isinstance(children, generic.ArrayObject):
                children = (children,)
            for child in children:
                child_ref = None
                if isinstance(child, generic.IndirectObject):
                    child_ref = (child.idnum, child.generation)
                    child = child.get_object()
                if not isinstance(child, generic.DictionaryObject):
                    continue
                try:
                    if child["/Type"] != "/StructElem":
                        continue
                except KeyError:
                    pass
                if child_ref is not None:
                    yield child_ref
                yield from struct_tree_refs(child)

        pages_ref = root.raw_get("/Pages")
        pages_path = ("/Root", "/Pages")
        page_tree_nodes: dict[_Key, tuple] = {}
        if isinstance(pages_ref, generic.IndirectObject):
            page_tree_nodes[(pages_ref.idnum, pages_ref.generation)] = pages_path
        for ref, path in page_tree_refs(pages_ref.get_object(), pages_path):
            if ref in page_tree_nodes:
                raise misc.PdfReadError("Circular reference in page tree in mapping stage")
            page_tree_nodes[ref] = path
        struct_tree_nodes: set[_Key] = set()
        try:
            struct_tree_root = root.raw_get("/StructTreeRoot").get_object()
            for ref in struct_tree_refs(struct_tree_root):
                if ref in struct_tree_nodes:
                    raise misc.PdfReadError(
                        "Circular reference in structure tree in mapping stage")
                struct_tree_nodes.add(ref)
        except KeyError:
            pass
        return page_tree_nodes, struct_tree_nodes


class _Path(RawPdfPath):
    """pyHanko's path, with its hash key worked out once: pyHanko's own works it out again
    at every hash and comparison, and its change analysis hashes each path many times."""

    def __init__(self, *path: str | int) -> None:
        super().__init__(*path)
        self._key = super()._tag()

    def _tag(self) -> tuple[tuple[bool, str | int], ...]:
        return self._key

    def __hash__(self) -> int:
        return hash(self._key)


class _Usages(dict):
    """pyHanko's per-revision table of paths to each object, filled in when asked."""

    def __init__(self, paths: RevisionPaths) -> None:
        super().__init__()
        self._paths = paths
        self._unreached: set[generic.Reference] = set()

    def __bool__(self) -> bool:  # pyHanko reads it as ``cache or {}``
        return True

    def __missing__(self, ref: generic.Reference) -> set[RawPdfPath]:
        found = set() if ref in self._unreached else self._paths.paths_to(ref)
        if not found:  # pyHanko's table has no entry for an object no path reaches
            self._unreached.add(ref)
            raise KeyError(ref)
        self[ref] = found
        return found


def collect_dependencies(graph: ObjectGraph, resolver: HistoricalResolver, obj: Any,
                         since_revision: int | None = None) -> set[generic.Reference]:
    """pyHanko's ``HistoricalResolver.collect_dependencies``: the objects ``obj`` refers to,
    directly or through others (with ``since_revision``: only through objects introduced in
    that revision or later). The same set, found without a call per number and name, and
    from the objects as parsed (``ObjectGraph.raw``)."""
    xrefs = resolver.reader.xrefs
    found: set[generic.Reference] = set()
    stack = [obj]
    while stack:
        obj = stack.pop()
        if isinstance(obj, generic.IndirectObject):
            ref = generic.Reference(obj.idnum, obj.generation, resolver)
            if ref in found:
                continue
            if since_revision is not None and xrefs.get_introducing_revision(ref) < since_revision:
                continue  # an older object: pyHanko does not look inside it either
            found.add(ref)
            obj = graph.raw((ref.idnum, ref.generation), resolver)
        if isinstance(obj, generic.DictionaryObject):
            stack.extend(v for v in obj.values() if isinstance(v, _CONTAINERS))
        elif isinstance(obj, generic.ArrayObject):
            stack.extend(v for v in obj if isinstance(v, _CONTAINERS))
    return found


_COMPOUND = (generic.DictionaryObject, generic.ArrayObject, generic.IndirectObject,
             generic.DecryptedObjectProxy)


def subsume(library, obj: Any) -> Any:
    """pyHanko's ``HistoricalResolver._subsume_object`` (an object copied into a revision's
    view), which for a number, name or string only asks it for its container and returns
    it: the same here, without building the revision's reference to the container first."""
    if isinstance(obj, _COMPOUND):
        return library(obj)
    obj.get_container_ref()  # pyHanko asks every value for it: an error if there is none
    return obj


def install(graph: ObjectGraph, resolver: HistoricalResolver) -> bool:
    """Make ``resolver`` answer pyHanko's questions about its objects from ``graph``
    (paths), without a call per value (dependencies) and copy its values more cheaply;
    whether it does."""
    if (not hasattr(resolver, _CACHE_ATTRIBUTE) or not hasattr(resolver, "_get_usages_of_ref")
            or not hasattr(resolver, "collect_dependencies")
            or not hasattr(resolver, "_subsume_object")):
        return False
    graph.installed.append(resolver)
    if getattr(resolver, _CACHE_ATTRIBUTE) is None:
        setattr(resolver, _CACHE_ATTRIBUTE, _Usages(graph.revision(resolver)))
    if "collect_dependencies" not in vars(resolver):
        resolver.collect_dependencies = functools.partial(collect_dependencies, graph, resolver)
    if "_subsume_object" not in vars(resolver):
        # pyHanko's copy calls resolver._subsume_object for every value: this, then.
        resolver._subsume_object = functools.partial(
            subsume, functools.partial(type(resolver)._subsume_object, resolver))
    return True
