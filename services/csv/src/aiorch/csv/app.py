"""Wires step requests to the cleaner: files in, cleaned file and change log out."""

import tempfile
from pathlib import Path, PurePosixPath

from pydantic import ValidationError

from aiorch.contracts import CleaningSpec, FileRef, StepRequested
from aiorch.runtime.agent import AgentService, StepContext, StepFailure, StepOutcome
from aiorch.runtime.llm import llm_or_offline
from aiorch.runtime.logs import get_logger
from aiorch.runtime.storage import artifact_key

from .agentspec import SPEC
from .cleaner import clean_table
from .config import CsvSettings
from .errors import CsvProblem
from .llm import LLMSpecParser
from .reader import read_table
from .spec import parse_instruction
from .stream import clean_file, sniff

log = get_logger(__name__)
CSV_TYPES = {"text/csv", "text/tab-separated-values", "text/plain"}


class CsvService(AgentService):
    name = "csv"
    spec = SPEC
    settings_class = CsvSettings
    settings: CsvSettings

    def setup(self) -> None:
        self.llm = LLMSpecParser(**self.settings.openai_args()) if self.settings.openai_configured else None

    def handle(self, request: StepRequested, ctx: StepContext) -> StepOutcome:
        files = [ref for ref in request.files if ref.media_type in CSV_TYPES]
        files += [FileRef.model_validate(ref) for refs in ctx.upstream("files") for ref in refs]
        if not files:
            raise StepFailure("no_file", "no CSV file to clean: attach a .csv or .tsv file")
        if len(files) > 1:
            log.info("several files in one step; cleaning the first", files=[ref.name for ref in files])
        ref = files[0]
        try:
            if ref.size > self.settings.max_in_memory_bytes:
                return self._clean_large(request, ctx, ref)
            return self._clean_in_memory(request, ctx, ref)
        except CsvProblem as problem:
            raise StepFailure(problem.code, problem.message) from None

    def _spec(self, request: StepRequested, columns: list[str]) -> CleaningSpec:
        given = request.params.get("spec")
        if isinstance(given, str) and given.strip():
            try:
                return CleaningSpec.model_validate_json(given).model_copy(update={"source": "params"})
            except ValidationError as exc:
                raise StepFailure("invalid_spec", f"params.spec is not a cleaning spec: {exc.errors()[0]['msg']}") from None
        llm = self.llm
        return llm_or_offline(llm and (lambda: llm.parse(request.instruction, columns)),
                              lambda: parse_instruction(request.instruction, columns), what="cleaning spec").value

    def _clean_in_memory(self, request: StepRequested, ctx: StepContext, ref: FileRef) -> StepOutcome:
        table = read_table(ctx.read_file(ref), ref.name)
        spec = self._spec(request, list(table.frame.columns))
        ctx.progress(0.1, f"read {len(table.frame):,} rows")
        result = clean_table(table, ref.name, spec, ctx.progress)
        return self._outcome(ctx, ref, result.output, result.report, result.cleaned_csv, result.change_log_csv)

    def _clean_large(self, request: StepRequested, ctx: StepContext, ref: FileRef) -> StepOutcome:
        with tempfile.TemporaryDirectory(prefix="aiorch-csv-") as folder:
            folder = Path(folder)
            source = folder / "source.csv"
            with source.open("wb") as target:
                for chunk in ctx.store.iter_chunks(ref.key):
                    target.write(chunk)
            _, _, _, header = sniff(source, ref.name)
            spec = self._spec(request, header)
            cleaned, changes = folder / "cleaned.csv", folder / "changes.csv"
            output, report = clean_file(source, ref.name, spec, cleaned, changes, self.settings.chunk_rows, ctx.progress)
            stem = PurePosixPath(ref.name).stem
            output.cleaned_file = ctx.store.put_file(
                _key(ctx, f"{stem}.cleaned.csv"), f"{stem}.cleaned.csv", cleaned, "text/csv")
            output.change_log_file = ctx.store.put_file(
                _key(ctx, f"{stem}.changes.csv"), f"{stem}.changes.csv", changes, "text/csv")
            ctx.artifacts += [output.cleaned_file, output.change_log_file]
            return StepOutcome(output=output, summary=report)

    def _outcome(self, ctx, ref, output, report, cleaned: bytes, changes: bytes) -> StepOutcome:
        stem = PurePosixPath(ref.name).stem
        output.cleaned_file = ctx.save_artifact(f"{stem}.cleaned.csv", cleaned, "text/csv")
        output.change_log_file = ctx.save_artifact(f"{stem}.changes.csv", changes, "text/csv")
        return StepOutcome(output=output, summary=report)


def _key(ctx: StepContext, name: str) -> str:
    return artifact_key(ctx.request.task_id, ctx.request.step_id, name)
