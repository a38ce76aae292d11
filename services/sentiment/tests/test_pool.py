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


def test_workers_leave_when_the_service_is_killed(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from aiorch.sentiment.pool import AnalyzerPool\n"
        "pool = AnalyzerPool(Path(sys.argv[1]), emotions=False, workers=2)\n"
        "print(' '.join(str(p) for p in pool.executor._processes), flush=True)\n"
        "time.sleep(60)\n"
    )
    service = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    workers = [int(pid) for pid in service.stdout.readline().split()]
    assert len(workers) == 2
    service.send_signal(signal.SIGKILL)
    service.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [pid for pid in workers if _running(pid)]
    assert not alive, f"worker processes {alive} outlived the killed service"


def _running(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has exited; only its parent has not reaped it
        return stat.read().split()[2] != "Z"
