"""The tasks API's request and response bodies, and the submission body's OpenAPI entry.

Kept apart from the routes so that the routers, the body parser and the KV readers share
one definition (and the document shows one schema per model)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from aiorch.contracts import FileRef
from aiorch.contracts.messages import ParamValue


class TaskCreate(BaseModel):
    """JSON submission: the request and files already in the object store."""

    model_config = ConfigDict(strict=True)

    request: StrictStr = Field(description="What to do, in plain words.")
    files: list[FileRef] = Field(default_factory=list, description="Files uploaded earlier (keys under uploads/).")
    params: dict[str, ParamValue] = Field(default_factory=dict, description="Structured parameters, e.g. column.")


class TaskLinks(BaseModel):
    self: str
    events: str = Field(description="The WebSocket of the task's events (Bearer header or ?api_key=).")
    cancel: str


class TaskAccepted(BaseModel):
    task_id: str
    status: str
    files: list[FileRef]
    links: TaskLinks


class TaskSummary(BaseModel):
    task_id: str
    status: str
    request: str
    owner: str | None = None
    created_at: datetime
    updated_at: datetime


class Cancelling(BaseModel):
    task_id: str
    status: Literal["cancelling"] = "cancelling"


class TaskPage(BaseModel):
    tasks: list[TaskSummary]
    next_before: str | None = Field(description="Pass as `before` for the next page.")


# POST /v1/tasks and POST /v1/plan read their body themselves (multipart or JSON), so
# FastAPI cannot infer it: this describes both forms.
SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["request"],
                    "properties": {
                        "request": {"type": "string"},
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "params": {"type": "string", "description": "JSON object of parameters"},
                    },
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/TaskCreate"}},
        },
    }
}


def schema_components() -> dict[str, dict]:
    """TaskCreate and the models it uses, for the document's components (the request body
    refers to them there)."""
    schema = TaskCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.pop("$defs", {})
    components["TaskCreate"] = schema
    return components
