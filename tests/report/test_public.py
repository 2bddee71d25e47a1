"""Public performance pages: public measures of published reports, nothing internal."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd

from kpitools.report.content import build_cpr
from kpitools.report.public import public_pages, public_services
from tests.conftest import QUARTER


def with_public(dataset, ids):
    dataset.measures["public"] = dataset.measures.index.isin(ids)
    return dataset


def test_only_public_measures_and_nothing_internal(example):
    dataset = with_public(example, ["FIN_KPI_01", "FIN_KPI_04"])
    comments = dataset.comments
    internal = comments.iloc[[0]].copy()
    internal["service"], internal["measure_id"] = "Finance", "FIN_KPI_04"
    internal["section"], internal["comment"] = "exception", "Do not share: HR case."
    internal["internal"] = True
    dataset = replace(dataset, comments=pd.concat([comments, internal], ignore_index=True))
    report = build_cpr(dataset, "Finance", QUARTER)
    (service,) = public_services(dataset, [report])
    assert [x.measure_id for x in service.lines] == ["FIN_KPI_01", "FIN_KPI_04"]
    pages = public_pages("Northfield Borough Council", QUARTER, [service])
    assert sorted(pages) == ["finance.html", "index.html"]
    page = pages["finance.html"]
    assert '<h2 id="m1">Council tax collected (rolling 12 months)</h2>' in page
    assert "Savings delivered against the savings plan" in page
    assert "Business rates" not in page  # not public
    assert "Do not share" not in page  # internal
    assert "Two savings proposals slipped" in page  # the Director's comment, not internal
    assert "Director of Finance" not in page  # no author names
    assert "Run " not in page and "run_id" not in page
    assert "<dt>Rating</dt><dd>▲ off target</dd>" in page
    assert re.search(r'<svg role="img" aria-labelledby="c1"[^>]*><title id="c1">Council tax', page)
    assert "<caption>Council tax collected (rolling 12 months): recent figures</caption>" in page
    assert "<script" not in page
    index = pages["index.html"]
    assert '<a href="finance.html">Finance</a>: 2 measures: ' in index
    again = public_pages("Northfield Borough Council", QUARTER, [service])
    assert again == pages
