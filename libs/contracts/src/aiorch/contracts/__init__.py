"""aiorch.contracts: the messages every aiorch service shares."""

from . import subjects
from .agents import (
    REGISTRY_BUCKET,
    AgentRegistration,
    AgentSpec,
    ParameterSpec,
    accepted_media_types,
    installed_specs,
    registry_key,
)
from .base import Message, Model, utcnow
from .messages import (
    TERMINAL_EVENTS,
    TERMINAL_TASK_STATUSES,
    CancelRequested,
    EventType,
    FileInput,
    FileRef,
    Plan,
    PlanRequest,
    PlanStep,
    StepError,
    StepOutputInput,
    StepProgress,
    StepRequested,
    StepResult,
    StepState,
    StepStatus,
    TaskEvent,
    TaskRecord,
    TaskStatus,
    TaskSubmitted,
    UpstreamOutput,
    new_task_id,
)
from .outputs import (
    AgentOutput,
    BrowserAction,
    BrowserOutput,
    ChangeRecord,
    ClassProbability,
    CleaningSpec,
    ColumnProfile,
    CsvOutput,
    FillRule,
    LesionResult,
    Link,
    GenericOutput,
    MedicalOutput,
    PatientInfo,
    RaggedRow,
    RangeRule,
    RowFilter,
    SentenceSentiment,
    SentimentItem,
    SentimentOutput,
    TableData,
    ValidationFailure,
)
from .version import SCHEMA_MAJOR, SCHEMA_VERSION

# Every top-level model whose JSON Schema is exported and compatibility-checked.
SCHEMA_MODELS: dict[str, type[Model]] = {
    model.__name__: model
    for model in (
        FileRef, TaskSubmitted, CancelRequested, Plan, PlanStep, PlanRequest, StepRequested, StepProgress,
        StepResult, TaskEvent, TaskRecord, SentimentOutput, CsvOutput, CleaningSpec, BrowserOutput,
        MedicalOutput, GenericOutput,
    )
}

__all__ = [
    "CATALOG", "SCHEMA_MAJOR", "SCHEMA_MODELS", "SCHEMA_VERSION", "TERMINAL_EVENTS",
    "TERMINAL_TASK_STATUSES", "AgentOutput", "AgentSpec", "CancelRequested", "EventType", "FileInput", "FileRef",
    "Message", "Model", "Plan", "PlanRequest", "PlanStep", "SentenceSentiment", "SentimentItem",
    "SentimentOutput", "CsvOutput", "CleaningSpec", "ColumnProfile", "ChangeRecord", "RaggedRow", "RangeRule",
    "RowFilter", "FillRule", "ValidationFailure", "BrowserAction", "BrowserOutput", "Link", "TableData", "MedicalOutput", "GenericOutput", "LesionResult", "ClassProbability",
    "PatientInfo", "StepError", "StepOutputInput", "StepProgress", "StepRequested",
    "StepResult", "StepState", "StepStatus", "TaskEvent", "TaskRecord", "TaskStatus",
    "TaskSubmitted", "UpstreamOutput", "accepted_media_types", "new_task_id", "subjects", "utcnow",
    "REGISTRY_BUCKET", "AgentRegistration", "ParameterSpec", "installed_specs", "registry_key",
]


def __getattr__(name: str):
    if name == "CATALOG":  # the installed agents' specs, found when first asked for (see agents.py)
        return installed_specs()
    raise AttributeError(name)
