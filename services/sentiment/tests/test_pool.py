from aiorch.sentiment.analyzer import SentimentAnalyzer
from aiorch.sentiment.pool import PARALLEL_MIN_TEXTS, AnalyzerPool


def test_worker_processes_score_a_large_batch_exactly_as_in_process(tmp_path):
    texts = [f"Text {n}: {'lovely and happy' if n % 2 else 'awful, I am angry'} day" for n in range(PARALLEL_MIN_TEXTS + 50)]
    pool = AnalyzerPool(tmp_path, emotions=True, workers=2)
    try:
        seen = []
        parallel = pool.analyze(texts, progress=lambda fraction, message: seen.append(fraction))
    finally:
        pool.close()
    local = SentimentAnalyzer(tmp_path).analyze(texts)
    assert [item.model_dump() for item in parallel] == [item.model_dump() for item in local]
    assert seen[-1] == 1.0 and seen == sorted(seen)
