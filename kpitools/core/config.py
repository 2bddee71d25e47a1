"""The council configuration as a validated object: who the council is, the settings that
change a rating, and how its reports look.

This module holds the model and its rules; reading ``council.yaml`` (with line numbers in
messages) is the data contract's job (:mod:`kpitools.contract.config_file`). The same object
goes to every stage - loading, rating, the deck, the HTML, the batch - so every output rates
the same way.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from kpitools.core import colours
from kpitools.core.model import RAG


class ServiceConfig(BaseModel):
    """Who answers for a service, and which measures head its slide 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    director: str = ""
    cabinet_member: str = ""
    headline: tuple[str, ...] = ()  # measure ids for the slide-1 tiles, in order
    #: Where ``kpitools send`` sends the Director's deck and commentary workbook.
    director_email: str = Field("", pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    #: Pounds of service credit per abatement point, for a service run under contract.
    service_credit_per_point: float = Field(0.0, ge=0)


#: Settings no configuration may hold: mail credentials come from the environment.
CREDENTIAL_KEYS = ("password", "smtp_password", "user", "username", "smtp_user", "login")


class Mail(BaseModel):
    """Where ``kpitools send`` sends from and through. The sign-in is read from the
    environment (``KPITOOLS_SMTP_USER``, ``KPITOOLS_SMTP_PASSWORD``), never from here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sender: str = Field("", pattern=r"^$|^(.*<)?[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>?$")
    reply_to: str = ""
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"

    @model_validator(mode="before")
    @classmethod
    def _no_credentials(cls, given: Any) -> Any:
        if isinstance(given, dict):
            for key in given:
                if str(key).lower() in CREDENTIAL_KEYS:
                    raise ValueError(
                        f"{key}: mail credentials are never kept in the configuration; set "
                        "KPITOOLS_SMTP_USER and KPITOOLS_SMTP_PASSWORD in the environment"
                    )
        return given


class Category(BaseModel):
    """A balanced-scorecard category: its name as reports show it, and other words the data
    dictionary may use for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    also: tuple[str, ...] = ()

    def words(self) -> set[str]:
        return {category_key(w) for w in (self.name, *self.also)}


def category_key(text: str) -> str:
    """A category's spelling reduced for matching: case, spaces, hyphens and '&' forgiven."""
    return " ".join(text.lower().replace("&", " and ").replace("-", " ").replace("_", " ").split())


@lru_cache(maxsize=16)
def _category_of(categories: tuple[Category, ...]) -> dict[str, str]:
    """Each word (as :func:`category_key` reduces it) and the category it names (no word
    names two: the configuration is refused otherwise)."""
    return {word: c.name for c in categories for word in c.words()}


DEFAULT_CATEGORIES = (
    Category(name="Service performance", also=("performance", "service", "operational")),
    Category(name="Customer", also=("customers", "customer service", "residents")),
    Category(name="Workforce", also=("staff", "hr", "people management")),
    Category(name="Finance", also=("financial", "money", "budget")),
)
OTHER_CATEGORY = "Other measures"
"""Where a measure with no category (or ``other``) is grouped: after the council's own."""


class Layouts(BaseModel):
    """Slide layouts of the template, picked by name (never by position)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    content: str = "Title Only"


class CouncilConfig(BaseModel):
    """The validated council configuration.

    Paths (``logo``, ``template``) are relative to the YAML file's folder when read from one
    (:func:`kpitools.load_config` resolves them).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    council: str = Field(min_length=1, max_length=150)
    logo: Path | None = None
    year_start_month: int = Field(4, ge=1, le=12)
    template: Path | None = None
    layouts: Layouts = Layouts()
    rag_colours: dict[RAG, str] = Field(default_factory=dict)
    default_tolerance: float = Field(0.05, ge=0, le=1)
    #: A change within this fraction of the previous value is "stable" (0: only no change).
    stable_band: float = Field(0.0, ge=0, le=1)
    #: A monitored (neutral) measure changing by this fraction or more is noted on slide 1.
    notable_change: float = Field(0.25, ge=0)
    #: Points in an SPC shift or trend: 6 as Making Data Count counts them, 7 in some councils.
    spc_run_length: int = Field(6, ge=5, le=9)
    #: Quarters running a target must be beaten by the margin (or missed) to be reviewed.
    target_review_quarters: int = Field(4, ge=2, le=12)
    #: How far better than target counts as "by a wide margin" (a fraction of the target).
    target_review_margin: float = Field(0.10, gt=0, le=1)
    #: The first financial year a period may fall in: anything earlier is a typing error.
    earliest_year: int = Field(1990, ge=1900, le=2200)
    #: The last financial year a period may fall in (its start year); by default the year
    #: after the current one, so next year's targets are accepted and 2099 is not.
    latest_year: int | None = Field(None, ge=1900, le=2200)
    services: dict[str, ServiceConfig] = Field(default_factory=dict)
    #: The balanced-scorecard categories, in the order reports group measures by them.
    categories: tuple[Category, ...] = DEFAULT_CATEGORIES
    #: Sending decks and workbooks to the Directors (``kpitools send``).
    mail: Mail = Mail()
    _source: Path | None = PrivateAttr(default=None)  # not a setting: never read or written

    @property
    def source(self) -> Path | None:
        """The file the configuration was read from, for messages (None for defaults)."""
        return self._source

    def read_from(self, path: Path) -> CouncilConfig:
        """This configuration, remembering the file it came from."""
        copy = self.model_copy()
        copy._source = path
        return copy

    @classmethod
    def defaults(cls, council: str = "Council") -> CouncilConfig:
        """A configuration with every default, for use without a ``council.yaml``."""
        return cls(council=council)

    @model_validator(mode="after")
    def _ordered_years(self) -> CouncilConfig:
        if self.latest_year is not None and self.latest_year < self.earliest_year:
            raise ValueError(
                f"latest_year {self.latest_year} is before earliest_year {self.earliest_year}"
            )
        return self

    @field_validator("categories", mode="before")
    @classmethod
    def _categories_by_name(cls, given: Any) -> Any:
        """A category may be written as its name alone: ``- People``."""
        if isinstance(given, list | tuple):
            return [{"name": item} if isinstance(item, str) else item for item in given]
        return given

    @field_validator("categories")
    @classmethod
    def _distinct_categories(cls, given: tuple[Category, ...]) -> tuple[Category, ...]:
        seen: dict[str, str] = {}
        for category in given:
            for word in category.words():
                if word in seen and seen[word] != category.name:
                    raise ValueError(
                        f"'{word}' names two categories: {seen[word]} and {category.name}"
                    )
                seen[word] = category.name
        return given

    def category(self, text: str) -> str | None:
        """The configured category a data dictionary's word means ('' for none or
        ``other``); None for a word that names no category."""
        key = category_key(text)
        if key in ("", "other", "others", OTHER_CATEGORY.lower()):
            return ""
        return _category_of(self.categories).get(key)

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    @field_validator("rag_colours")
    @classmethod
    def _check_colours(cls, given: dict[RAG, str]) -> dict[RAG, str]:
        checked = {}
        for rag, colour in given.items():
            value = colours.parse_hex(colour)
            ratio = colours.contrast_ratio(value, colours.WHITE)
            if rag is not RAG.WHITE and ratio < colours.NON_TEXT_CONTRAST:
                raise ValueError(
                    f"{rag.value} {colour!r} has contrast {ratio:.1f}:1 against white: "
                    f"RAG colours need at least {colours.NON_TEXT_CONTRAST:g}:1"
                )
            checked[rag] = value
        return checked

    @property
    def palette(self) -> dict[str, str]:
        """RAG word -> hex colour, defaults filled in."""
        return {**colours.DEFAULT_RAG_COLOURS, **{r.value: c for r, c in self.rag_colours.items()}}

    def service(self, name: str) -> ServiceConfig:
        """A service's settings (empty ones for a service the file does not name)."""
        return self.services.get(name, ServiceConfig())

    def rating_settings(self) -> dict[str, Any]:
        """The settings that change what a report says about a measure: the financial year,
        the default tolerance, the stable band, the notable change of a monitored measure and
        each service's headline measures. Two outputs agree when these agree."""
        return {
            "year_start_month": self.year_start_month,
            "default_tolerance": self.default_tolerance,
            "stable_band": self.stable_band,
            "notable_change": self.notable_change,
            "headline": {name: list(s.headline) for name, s in sorted(self.services.items())},
        }
