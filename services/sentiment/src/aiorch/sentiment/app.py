"""Wires step requests to the sentiment analyzer; domain errors become failed steps."""

from functools import partial

from aiorch.contracts import FileRef, StepRequested
from aiorch.runtime.agent import AgentService, StepContext, StepFailure, StepOutcome
from aiorch.runtime.llm import llm_or_offline

from .agentspec import SPEC
from .analyzer import items_csv, report, summarize
from .config import SentimentSettings
from .errors import SentimentError
from .inputs import TextFile, select_texts
from .llm import OpenAISentiment
from .pool import AnalyzerPool


class SentimentService(AgentService):
    name = "sentiment"
    spec = SPEC
    settings_class = SentimentSettings
    settings: SentimentSettings

    def setup(self) -> None:
        settings = self.settings
        self.analyzer = AnalyzerPool(settings.nltk_data, settings.emotions, settings.workers)
        self.llm: OpenAISentiment | None = None
        if settings.sentiment_mode != "vader" and settings.openai_configured:
            self.llm = OpenAISentiment(**settings.openai_args())
        elif settings.sentiment_mode == "openai":
            raise SystemExit("AIORCH_SENTIMENT_MODE=openai needs OPENAI_API_KEY or OPENAI_BASE_URL")

    async def stop(self) -> None:
        await super().stop()
        self.analyzer.close()

    def handle(self, request: StepRequested, ctx: StepContext) -> StepOutcome:
        try:
            return self._handle(request, ctx)
        except SentimentError as error:
            raise StepFailure(error.code, error.message, error.retryable) from None

    def _handle(self, request: StepRequested, ctx: StepContext) -> StepOutcome:
        # Files attached to the step, and files handed over by an earlier step (a cleaned CSV).
        refs = [*request.files, *(FileRef.model_validate(ref) for refs in ctx.upstream("files") for ref in refs)]
        files = [TextFile(ref.name, ref.media_type, ctx.read_file(ref)) for ref in refs]
        batch = select_texts(request.instruction, request.params, files, ctx.upstream("texts"))
        ctx.progress(0.0, f"analysing {len(batch.texts):,} texts")
        answer = llm_or_offline(
            self.llm and partial(self.llm.analyze, batch.texts),
            partial(self.analyzer.analyze, batch.texts, progress=ctx.progress),
            what="sentiment",
        )
        items, note = answer.value, batch.note
        if answer.fallback_reason:
            reason = answer.fallback_reason.split(":", 1)[0]
            note = " ".join(filter(None, [note, f"OpenAI was unavailable ({reason}); VADER answered."]))
        if not items:
            raise StepFailure("empty_input", "no text to analyse")
        output = summarize(items, batch.source, "openai" if answer.by_llm else "vader")
        if len(items) > 1 or batch.source in ("column", "files"):  # a table in, a table out, one row or more
            ctx.save_artifact("sentiment.csv", items_csv(output), "text/csv")
        return StepOutcome(output=output, summary=report(output, note))
