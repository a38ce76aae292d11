"""Wires step requests to the sentiment analyzer."""

from aiorch.contracts import FileRef, StepRequested
from aiorch.runtime.agent import AgentService, StepContext, StepFailure, StepOutcome
from aiorch.runtime.logs import get_logger

from .analyzer import items_csv, report, summarize
from .config import SentimentSettings
from .inputs import TextFile, select_texts
from .llm import OpenAISentiment
from .pool import AnalyzerPool

log = get_logger(__name__)


class SentimentService(AgentService):
    name = "sentiment"
    settings_class = SentimentSettings
    settings: SentimentSettings

    def setup(self) -> None:
        self.analyzer = AnalyzerPool(self.settings.nltk_data, self.settings.emotions, self.settings.workers)
        self.llm: OpenAISentiment | None = None
        key = self.settings.openai_api_key
        if self.settings.sentiment_mode != "vader" and key is not None:
            self.llm = OpenAISentiment(
                key.get_secret_value(), self.settings.openai_base_url,
                self.settings.openai_model, self.settings.openai_timeout_s,
            )
        elif self.settings.sentiment_mode == "openai":
            raise SystemExit("AIORCH_SENTIMENT_MODE=openai needs OPENAI_API_KEY")

    async def stop(self) -> None:
        await super().stop()
        self.analyzer.close()

    def handle(self, request: StepRequested, ctx: StepContext) -> StepOutcome:
        # Files attached to the step, and files handed over by an earlier step (a cleaned CSV).
        refs = [*request.files, *(FileRef.model_validate(ref) for refs in ctx.upstream("files") for ref in refs)]
        files = [TextFile(ref.name, ref.media_type, ctx.read_file(ref)) for ref in refs]
        upstream = ctx.upstream("texts")
        batch = select_texts(request.instruction, request.params, files, upstream)
        ctx.progress(0.0, f"analysing {len(batch.texts):,} texts")
        mode, note = "vader", batch.note
        items = None
        if self.llm is not None:
            try:
                items = self.llm.analyze(batch.texts)
                mode = "openai"
            except Exception as exc:
                log.warning("OpenAI sentiment failed, using VADER", error=str(exc))
                note = " ".join(filter(None, [note, f"OpenAI was unavailable ({type(exc).__name__}); VADER answered."]))
        if items is None:
            items = self.analyzer.analyze(batch.texts, progress=ctx.progress)
        if not items:
            raise StepFailure("empty_input", "no text to analyse")
        output = summarize(items, batch.source, mode)
        if len(items) > 1:
            ctx.save_artifact("sentiment.csv", items_csv(output), "text/csv")
        return StepOutcome(output=output, summary=report(output, note))
