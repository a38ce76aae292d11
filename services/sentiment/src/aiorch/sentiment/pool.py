"""Large batches are scored across CPU cores in worker processes; small ones in-process.

VADER is pure Python, so threads would not help: a batch of thousands of texts is split
into chunks, each scored by a worker that loaded the lexicons once at start.
"""

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from aiorch.contracts import SentimentItem

from .analyzer import DOCUMENT_MODE_MAX_TEXTS, Progress, SentimentAnalyzer

PARALLEL_MIN_TEXTS = 400
_worker_analyzer: SentimentAnalyzer | None = None


def _init_worker(nltk_data: Path, emotions: bool, parent: int) -> None:
    global _worker_analyzer
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service decides when workers stop
    # The service's pid comes from the service: a worker still starting when it died is an orphan already.
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    _worker_analyzer = SentimentAnalyzer(nltk_data, emotions=emotions)


def _exit_with_parent(parent: int) -> None:
    """An idle worker would outlive a service killed with SIGKILL: leave when the parent goes."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _analyze_chunk(texts: list[str]) -> list[SentimentItem]:
    return [_worker_analyzer.analyze_text(text, per_sentence=False) for text in texts]


class AnalyzerPool:
    def __init__(self, nltk_data: Path, emotions: bool, workers: int) -> None:
        self.local = SentimentAnalyzer(nltk_data, emotions=emotions)
        self.workers = workers
        self.executor: ProcessPoolExecutor | None = None
        if workers > 1:
            self.executor = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(nltk_data, emotions, os.getpid()),
            )
            # Start the workers now, not on the first large request.
            list(self.executor.map(_analyze_chunk, [["warm up"]] * workers))

    def analyze(self, texts: Sequence[str], progress: Progress | None = None) -> list[SentimentItem]:
        if self.executor is None or len(texts) < PARALLEL_MIN_TEXTS:
            return self.local.analyze(texts, progress)
        assert len(texts) > DOCUMENT_MODE_MAX_TEXTS  # batches carry no per-sentence detail
        size = max(len(texts) // (self.workers * 4), 200)
        chunks = [list(texts[start : start + size]) for start in range(0, len(texts), size)]
        futures = {self.executor.submit(_analyze_chunk, chunk): index for index, chunk in enumerate(chunks)}
        results: list[list[SentimentItem] | None] = [None] * len(chunks)
        done = 0
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done += len(results[futures[future]])
            if progress:
                progress(done / len(texts), f"{done:,} of {len(texts):,} texts analysed")
        return [item for chunk in results for item in chunk]

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
