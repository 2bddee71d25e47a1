"""Safe file and folder names for services and quarters."""

import hashlib
import re

import pytest

from kpitools.core.naming import MAX_LENGTH, assign_slugs, quarter_folder, slugify

SAFE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def short_hash(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Children's Services", "childrens-services"),
        ("Children’s Services", "childrens-services"),  # a typographic apostrophe
        ("Café & Bar", "cafe-and-bar"),
        ("ICT & Digital", "ict-and-digital"),
        ("Waste & Environment", "waste-and-environment"),
        ("  Adult   Social_Care!! ", "adult-social-care"),
        ("Planning (2024/25)", "planning-2024-25"),
        ("../etc", "etc"),
        ("../../etc/passwd", "etc-passwd"),
        ("C:\\Windows\\System32", "c-windows-system32"),
        (".hidden", "hidden"),
        ("Straße", "strae"),  # ß has no ASCII decomposition: dropped, never kept
    ],
)
def test_slugify(name, slug):
    assert slugify(name) == slug
    assert SAFE.match(slug)


@pytest.mark.parametrize(
    "name",
    ["index", "Index", "MANIFEST", "failed", "con", "NUL", "aux", "COM1", "com9", "LPT1", "Lpt0",
     "timings", "Board Pack"],
)  # fmt: skip
def test_reserved_names_get_a_hash(name):
    assert slugify(name) == f"{name.lower().replace(' ', '-')}-{short_hash(name)}"


@pytest.mark.parametrize("name", ["", "...", "../..", "日本語", "'", "-_-"])
def test_names_with_nothing_left_get_a_hash(name):
    assert slugify(name) == f"service-{short_hash(name)}"
    assert SAFE.match(slugify(name))


def test_ampersands_alone_are_words():
    assert slugify("&&") == "and-and"


def test_long_names_are_cut_to_the_maximum():
    assert MAX_LENGTH == 60
    assert slugify("a" * 100) == "a" * 60
    # A cut that ends on a separator does not leave a trailing hyphen.
    name = "b" * 59 + " tail"
    assert slugify(name) == "b" * 59
    long_words = "Directorate of Environment, Neighbourhoods, Housing and Regeneration Services"
    slug = slugify(long_words)
    assert slug == "directorate-of-environment-neighbourhoods-housing-and-regene"
    assert len(slug) == 60


def test_quarter_folder():
    assert quarter_folder("2024/25 Q1") == "2024-25-q1"
    assert quarter_folder("2023/24") == "2023-24-year"


def test_distinct_names_keep_their_plain_slugs():
    names = ["Customer Services", "ICT & Digital", "Children's Services"]
    assert assign_slugs(names) == {
        "Customer Services": "customer-services",
        "ICT & Digital": "ict-and-digital",
        "Children's Services": "childrens-services",
    }


def test_clashing_names_get_distinct_hashed_slugs():
    slugs = assign_slugs(["Finance", "finance", "FINANCE!", "Parks"])
    assert slugs == {
        "Finance": f"finance-{short_hash('Finance')}",
        "finance": f"finance-{short_hash('finance')}",
        "FINANCE!": f"finance-{short_hash('FINANCE!')}",
        "Parks": "parks",
    }
    assert len(set(slugs.values())) == 4


def test_repeated_names_are_one_service():
    assert assign_slugs(["Parks", "Parks", "Finance"]) == {"Parks": "parks", "Finance": "finance"}


def test_slugs_are_stable_across_runs():
    names = ["Café & Bar", "Cafe and Bar", "Index"]
    assert assign_slugs(names) == assign_slugs(list(names))
    assert assign_slugs(names)["Index"] == f"index-{short_hash('Index')}"


def test_a_hashed_slug_never_equals_another_services_plain_slug():
    tricky = f"finance-{short_hash('Finance')}"  # a service literally named like a hashed slug
    slugs = assign_slugs(["Finance", "finance", tricky])
    assert len(set(slugs.values())) == 3


def test_period_folders_never_clash():
    from kpitools.core.naming import quarter_folder

    assert quarter_folder("2024/25 Q1") == "2024-25-q1"
    assert quarter_folder("2011-12") == "2011-12"
    assert quarter_folder("2011/12") == "2011-12-year"
    assert quarter_folder("2024") == "2024-year"
