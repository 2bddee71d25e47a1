"""plotly.js, the library the report pages draw their charts with, as plotly ships it.

A page holds it (by default) or loads it from the period's folder. A batch's kernel builds a
page with :data:`PLACE` where plotly.js goes, and the batch puts it there
(:func:`with_plotly_js`): 4.8 MB the same in every page need not be built into each, nor sent
from the kernel with each.
"""

from __future__ import annotations

from functools import cache

#: Stands in a page for plotly.js until it is put in (its ``<`` is escaped in any text a page
#: shows, so the first one is in the page's head, where plotly.js goes).
PLACE = "<kpitools-plotly.js/>"


@cache
def plotly_js() -> str:
    """The plotly.js that ships with plotly (the same the pages hold inline)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


@cache
def _plotly_js_bytes() -> bytes:
    return plotly_js().encode("utf-8")


def with_plotly_js(page: bytes) -> bytes:
    """A page built with :data:`PLACE` for plotly.js, with plotly.js put in its place."""
    head, place, tail = page.partition(PLACE.encode("utf-8"))
    if not place:
        raise ValueError("the page has no place for plotly.js")
    return b"".join((head, _plotly_js_bytes(), tail))  # one copy of 4.8 MB, not two
