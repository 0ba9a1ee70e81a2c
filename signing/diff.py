"""Change analysis of a signed PDF that looks at each revision once.

pyHanko's ``StandardDiffPolicy.review_file`` judges every signature by comparing the revision
it signed with *every* later revision: for a copy with n signatures (each in its own
incremental update) that is about n²/2 comparisons, 4 s for the 21 signatures of a 40-page
journal copy. ``RevisionPairPolicy`` uses the same rules (``apply``) but on each pair of
consecutive revisions, once per document, and judges every signature from the pairs after
it, under that signature's own field lock.

Why this is not weaker than pyHanko's way, for the verdict on a signature signed in
revision b:

- Every revision after b is still examined, with the same whitelist rules: the objects a
  revision writes must be explained by a rule, or it is refused (``SuspiciousModification``).
- The state a revision is compared with is the one just before it instead of b. Objects
  created after b therefore count as existing ones, whose every use must be cleared, rather
  than as fresh objects; a signature field signed after b counts as
  signed, so a later change to it is judged as a change to a signed field.
- A form field changed anywhere after b is reported by the pair in which it changed, so the
  union of changed fields covers everything pyHanko's comparison with b reports, and each
  is checked against b's lock (``/Lock`` FieldMDP) exactly as ``apply`` does it.
- Whether the document is certified (DocMDP) is part of the cache key, since ``apply``
  refuses some updates only in a certified document.

The modification level of the signature is the highest level of the pairs after it, as in
pyHanko. Tests (``tests/signing/test_diff.py``) compare both policies on an untouched chain
and on tampered ones (a page drawn over, a field signed after the seal's lock, a signature
taken out of its field, a note stuck on a sealed copy).
"""

from __future__ import annotations

from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    DiffResult,
    ModificationLevel,
    StandardDiffPolicy,
    SuspiciousModification,
)
from pyhanko.sign.fields import FieldMDPSpec, MDPPerm

from signing import (
    paths,
    speedups,  # noqa: F401  (installs the faster readers into pyHanko)
)


class RevisionPairPolicy(StandardDiffPolicy):
    """pyHanko's default rules, each revision compared once with the one before it.

    One instance per document: the results are cached by revision number.
    """

    def __init__(self) -> None:
        base = DEFAULT_DIFF_POLICY
        super().__init__(global_rules=base.global_rules, form_rule=base.form_rule,
                         reject_object_freeing=base.reject_object_freeing,
                         ignore_orphaned_objects=base.ignore_orphaned_objects,
                         ignore_identical_objects=base.ignore_identical_objects)
        self._pairs: dict[tuple[int, int, bool], DiffResult | SuspiciousModification] = {}
        self._graphs: dict[int, paths.ObjectGraph] = {}

    def _pair(self, reader: PdfFileReader, revision: int, doc_mdp: MDPPerm | None
              ) -> DiffResult | SuspiciousModification:
        """Revision ``revision`` against ``revision - 1``, without any field lock."""
        key = (id(reader), revision, doc_mdp is not None)
        if key not in self._pairs:
            graph = self._graphs.get(id(reader))
            if graph is None or graph.reader is not reader:
                graph = self._graphs[id(reader)] = paths.ObjectGraph(reader)
            old = reader.get_historical_resolver(revision - 1)
            new = reader.get_historical_resolver(revision)
            paths.install(graph, old)  # pyHanko's questions answered with less reading
            paths.install(graph, new)
            try:
                self._pairs[key] = self.apply(old=old, new=new, doc_mdp=doc_mdp)
            except SuspiciousModification as exc:
                self._pairs[key] = exc
        return self._pairs[key]

    def release(self) -> None:
        """Let go of the revision pairs and object graphs (when the file has been verified)."""
        self._pairs.clear()
        for graph in self._graphs.values():
            graph.release()
        self._graphs.clear()

    def review_file(self, reader: PdfFileReader, base_revision: int | HistoricalResolver,
                    field_mdp_spec: FieldMDPSpec | None = None,
                    doc_mdp: MDPPerm | None = None) -> DiffResult | SuspiciousModification:
        base = base_revision if isinstance(base_revision, int) else base_revision.revision
        level, changed = ModificationLevel.NONE, set()
        for revision in range(base + 1, reader.xrefs.total_revisions):
            result = self._pair(reader, revision, doc_mdp)
            if isinstance(result, SuspiciousModification):
                return result
            locked = sorted(name for name in result.changed_form_fields
                            if field_mdp_spec is not None and field_mdp_spec.is_locked(name))
            if locked:
                return SuspiciousModification(
                    f"revision {revision} changes the form field(s) {', '.join(locked)}, "
                    f"locked by the signature of revision {base}")
            level = max(level, result.modification_level)
            changed |= result.changed_form_fields
        return DiffResult(level, changed)
