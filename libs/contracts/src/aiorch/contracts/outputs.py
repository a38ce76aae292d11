"""Typed output of each agent. `AgentOutput` is a union discriminated by `agent`.

Adding an agent: add its output model here and to `AgentOutput`, and its entry in
`agents.CATALOG`.
"""

from typing import Annotated, Literal

from pydantic import Field

from .base import Model

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


AgentOutput = Annotated[SentimentOutput, Field(discriminator="agent")]
