"""The machine's speed at the moment a bench runs, as one figure printed beside its results.

The shared 2-core machines the benches run on change speed by a factor of two to three
within a day (the same code verified one signed copy in 0.26 s in one hour and 0.46 s in
another), so a wall-clock figure means little without the speed it was measured at. The
reference is a plain Python loop (``s += i * i`` for 3,000,000 values of ``i``, timed with
``time.process_time``): the median of three runs, in seconds. docs/signing.md quotes the
same loop for the figures of earlier days (0.22-0.37 s in faster hours, 0.40-0.73 s in slow
ones). It counts CPU time, so it shows a slower CPU, not other processes competing for it.
"""

from __future__ import annotations

import statistics
import time

#: Run at module level, as the loop whose readings docs/signing.md quotes was (its names are
#: globals; inside a function they would be faster locals and the figures not comparable).
_LOOP = compile("s = 0\nfor i in range(3_000_000):\n    s += i * i\n", "<reference loop>", "exec")


def reference_loop_seconds(runs: int = 3) -> float:
    """Median CPU seconds of the reference loop over ``runs`` runs."""
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        exec(_LOOP, {})  # a constant piece of code of our own, run in fresh globals
        times.append(time.process_time() - t0)
    return statistics.median(times)


def speed_line() -> str:
    """The line a bench prints before and after its figures."""
    return (f"machine speed: reference loop {reference_loop_seconds():.2f} s "
            f"(3,000,000 multiply-adds in Python, median of 3; lower is faster)")
