"""Typed output of each agent. `AgentOutput` is a union discriminated by `agent`.

The shipped agents have their own models here; any other agent (one that registered its
spec at run time) reports a `GenericOutput`, so adding an agent needs no contracts release.
"""

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from .base import Model
from .files import FileRef
from .subjects import AGENT_NAME_PATTERN

SentimentLabel = Literal["positive", "neutral", "negative"]


class SentenceSentiment(Model):
    text: str
    label: SentimentLabel
    compound: float


class SentimentItem(Model):
    text: str
    label: SentimentLabel
    compound: float = Field(ge=-1, le=1)
    positive: float = Field(ge=0, le=1)
    neutral: float = Field(ge=0, le=1)
    negative: float = Field(ge=0, le=1)
    sentences: list[SentenceSentiment] = Field(
        default_factory=list, description="Per-sentence scores, for items with more than one sentence."
    )
    emotions: dict[str, float] = Field(
        default_factory=dict, description="Share of each NRC emotion among the item's emotion words."
    )
    top_emotions: list[str] = Field(default_factory=list)


class SentimentOutput(Model):
    agent: Literal["sentiment"] = "sentiment"
    mode: Literal["vader", "openai"] = "vader"
    source: str = Field(description="Where the texts came from: inline, quoted, file, column, upstream.")
    items: list[SentimentItem]
    distribution: dict[str, int] = Field(description="Count of items per label.")
    overall_label: SentimentLabel
    mean_compound: float
    top_emotions: list[str] = Field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [item.text for item in self.items]


class ColumnProfile(Model):
    name: str
    inferred_type: str = Field(description="integer, number, date, datetime, boolean, email, url, category, text, empty")
    missing: int
    unique: int
    examples: list[str] = Field(default_factory=list)
    issues: list[str] = Field(default_factory=list)


class ChangeRecord(Model):
    row: int = Field(description="Data row number in the source file, from 1 (the header is row 0).")
    column: str
    old: str | None
    new: str | None
    rule: str


class RaggedRow(Model):
    line: int = Field(description="Line number in the file, from 1.")
    fields: int
    expected: int
    handling: str


class ValidationFailure(Model):
    row: int | None = Field(description="Data row number in the cleaned file, from 1.")
    column: str | None
    check: str
    value: str | None


class FillRule(Model):
    column: str | None = Field(default=None, description="None: every column the strategy applies to.")
    strategy: Literal["median", "mean", "mode", "constant", "ffill", "bfill"]
    value: str | None = None


class RowFilter(Model):
    """Rows for which `column op value` holds are removed."""

    column: str
    op: Literal["<", "<=", ">", ">=", "==", "!=", "missing", "invalid"]
    value: str | None = None


class RangeRule(Model):
    column: str
    min: float | None = None
    max: float | None = None


class CleaningSpec(Model):
    """What the cleaner did, in a form that repeats the run (pass it back as `params.spec`)."""

    fix_formats: bool = True
    fold_categories: bool = True
    deduplicate: bool = True
    dedupe_keys: list[str] = Field(default_factory=list)
    drop_rows_missing: list[str] = Field(default_factory=list, description="Drop rows missing any of these; '*' = any column.")
    drop_columns_missing_over: float | None = Field(default=None, ge=0, le=1)
    drop_rows_missing_over: float | None = Field(default=None, ge=0, le=1)
    fill: list[FillRule] = Field(default_factory=list)
    remove_rows: list[RowFilter] = Field(default_factory=list)
    ranges: list[RangeRule] = Field(default_factory=list)
    repair_dependencies: bool = Field(default=True, description="Repair cells that break a dependency found in the data.")
    repair_tokens: bool = Field(default=True, description="Repair corrupted tokens that have one close, known value.")
    split_misplaced: bool = Field(default=True, description="Split a value that carries another column's value back.")
    source: Literal["default", "offline", "openai", "params"] = "default"


class CsvOutput(Model):
    agent: Literal["csv"] = "csv"
    source: str
    encoding: str
    delimiter: str
    has_header: bool
    streamed: bool = Field(default=False, description="Large file cleaned in chunks (fewer repairs, see report).")
    rows_before: int
    rows_after: int
    columns_before: list[str]
    columns_after: list[str]
    profile_before: list[ColumnProfile]
    profile_after: list[ColumnProfile]
    missing_before: dict[str, int]
    missing_after: dict[str, int]
    changes_per_rule: dict[str, int]
    change_count: int
    changes_sample: list[ChangeRecord] = Field(default_factory=list)
    duplicates_removed: int = 0
    ragged_rows: list[RaggedRow] = Field(default_factory=list)
    validation_failures: int = 0
    validation: list[ValidationFailure] = Field(default_factory=list)
    spec: CleaningSpec
    cleaned_file: FileRef | None = None
    change_log_file: FileRef | None = None

    @property
    def files(self) -> list[FileRef]:
        """The cleaned file, for later steps (e.g. sentiment on one of its columns)."""
        return [self.cleaned_file] if self.cleaned_file else []


class Link(Model):
    text: str
    url: str


class TableData(Model):
    caption: str | None = None
    header: list[str]
    rows: int
    file: FileRef | None = Field(default=None, description="The table as a CSV artifact.")


class BrowserAction(Model):
    """One action of the browser's plan and whether it was carried out. A step with any
    `not_done` action fails, unless the request only asked to read the page."""

    kind: str = Field(description="click, type, select, check, hover, scroll, submit, wait, open, read, ...")
    description: str = Field(description="The action in words, e.g. \"click the button 'Submit'\".")
    status: Literal["done", "not_done", "skipped"]
    reason: str = Field(default="", description="Why it was not done (element not found, ambiguous, verb not understood).")
    target: str = Field(default="", description="What the action was grounded to on the page, when it was.")
    candidates: list[str] = Field(default_factory=list, description="The closest elements seen, when not found or ambiguous.")


class BrowserOutput(Model):
    agent: Literal["browser"] = "browser"
    mode: Literal["offline", "llm"] = "offline"
    url: str = Field(description="The last page's address.")
    title: str = ""
    headings: list[str] = Field(default_factory=list)
    main_text: str = Field(default="", description="Main text of the last page, up to 20,000 characters.")
    items: list[str] = Field(default_factory=list, description="Extracted texts, e.g. reviews or list items.")
    links: list[Link] = Field(default_factory=list)
    tables: list[TableData] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list, description="What was done, in order.")
    steps: list[BrowserAction] = Field(default_factory=list, description="Every planned action with its outcome.")
    pages_visited: int = 0
    screenshot: FileRef | None = None

    @property
    def texts(self) -> list[str]:
        """For later steps (e.g. sentiment): the extracted items, else the main text."""
        return self.items or ([self.main_text] if self.main_text else [])

    @property
    def files(self) -> list[FileRef]:
        """Tables as CSV files, for later steps (e.g. the csv agent)."""
        return [table.file for table in self.tables if table.file]


class PatientInfo(Model):
    age: float | None = Field(default=None, ge=0, le=120)
    sex: Literal["male", "female", "unknown"] | None = None
    location: Literal["arm", "head-or-neck", "leg-or-genital", "trunk", "unknown"] | None = None
    source: Literal["params", "text", "none"] = "none"


class ClassProbability(Model):
    code: str
    name: str
    severity: Literal["benign", "malignant", "unknown"]
    probability: float


class LesionResult(Model):
    file: str
    status: Literal["classified", "refused"]
    refusal: str | None = Field(default=None, description="Why the image was not classified.")
    top: list[ClassProbability] = Field(default_factory=list, description="The three most probable classes.")
    probabilities: list[ClassProbability] = Field(default_factory=list)
    malignant_probability: float | None = Field(default=None, description="Sum over the malignant classes.")
    leaning: Literal["benign", "malignant", "unknown"] | None = None
    heatmap: FileRef | None = Field(default=None, description="Grad-CAM overlay (PNG) for the top class.")
    warnings: list[str] = Field(default_factory=list, description="Image-quality and conversion notes.")


class MedicalOutput(Model):
    agent: Literal["medical"] = "medical"
    model: str
    patient: PatientInfo = Field(default_factory=PatientInfo)
    images: list[LesionResult] = Field(default_factory=list)
    disclaimer: str

    @property
    def texts(self) -> list[str]:
        return []

    @property
    def files(self) -> list[FileRef]:
        return [image.heatmap for image in self.images if image.heatmap]


class GenericOutput(Model):
    """The output of an agent these contracts do not name: texts and files a later step can
    read, and the agent's own data (described by its registered spec, not here)."""

    agent: str = Field(pattern=AGENT_NAME_PATTERN)
    texts: list[str] = Field(default_factory=list, description="Texts a later step (e.g. sentiment) may read.")
    files: list[FileRef] = Field(default_factory=list, description="Files a later step may read.")
    data: dict[str, Any] = Field(default_factory=dict)


_NAMED_OUTPUTS = ("sentiment", "csv", "browser", "medical")


def _output_tag(value: Any) -> str:
    agent = value.get("agent") if isinstance(value, dict) else getattr(value, "agent", None)
    return agent if agent in _NAMED_OUTPUTS else "generic"


AgentOutput = Annotated[
    Annotated[SentimentOutput, Tag("sentiment")] | Annotated[CsvOutput, Tag("csv")]
    | Annotated[BrowserOutput, Tag("browser")] | Annotated[MedicalOutput, Tag("medical")]
    | Annotated[GenericOutput, Tag("generic")],
    Discriminator(_output_tag),
]
