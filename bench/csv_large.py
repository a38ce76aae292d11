"""A large CSV for the streaming benchmark, and the two runs measured side by side, each in
its own process so that its peak RSS is its own."""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

FIRST = np.array(["Ada", "Ben", "Cleo", "Dario", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam"])
LAST = np.array(["Novak", "Okafor", "Perez", "Quinn", "Rossi", "Schmidt", "Tanaka", "Urban", "Varga", "Weber"])
COUNTRIES = np.array(["USA", "Germany", "France", "Canada", "Spain", "Italy", "Japan", "usa", "U.S.A.", "Germny"])
COUNTRY_WEIGHTS = np.array([300, 150, 120, 100, 80, 80, 100, 3, 2, 2], dtype=float)
CITIES = np.array(["Springfield", "Riverside", "Franklin", "Greenville", "Bristol", "Clinton", "Fairview", "Salem"])
STATUSES = np.array(["active", "pending", "cancelled", "N/A", "Active"])
STATUS_WEIGHTS = np.array([50, 25, 22, 2, 1], dtype=float)


def make_big_csv(path: Path, target_bytes: int, block_rows: int = 500_000, seed: int = 3) -> int:
    """Mostly clean rows with some variants, typos, markers and ~1% duplicate rows."""
    rng = np.random.default_rng(seed)
    rows = 0
    with path.open("w", newline="") as out:
        first = True
        while out.tell() < target_bytes:
            n = block_rows
            ids = np.arange(rows + 1, rows + n + 1)
            first_names = FIRST[rng.integers(0, len(FIRST), n)]
            last_names = LAST[rng.integers(0, len(LAST), n)]
            days = pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
            frame = pd.DataFrame({
                "id": ids,
                "name": pd.Series(first_names) + " " + pd.Series(last_names),
                "email": pd.Series(np.char.lower(first_names)) + "." + pd.Series(ids.astype(str)) + "@example.com",
                "country": COUNTRIES[rng.choice(len(COUNTRIES), n, p=COUNTRY_WEIGHTS / COUNTRY_WEIGHTS.sum())],
                "city": CITIES[rng.integers(0, len(CITIES), n)],
                "signup": days.strftime("%Y-%m-%d"),
                "price": np.round(rng.uniform(5, 5000, n), 2),
                "active": np.where(rng.random(n) < 0.5, "true", "false"),
                "status": STATUSES[rng.choice(len(STATUSES), n, p=STATUS_WEIGHTS / STATUS_WEIGHTS.sum())],
            })
            duplicates = frame.sample(frac=0.01, random_state=int(rng.integers(1 << 30)))
            frame = pd.concat([frame, duplicates]).sample(frac=1.0, random_state=int(rng.integers(1 << 30)))
            frame.to_csv(out, header=first, index=False)
            first = False
            rows += len(frame)
    return rows


BASELINE = """
import sys, pandas as pd
frame = pd.read_csv(sys.argv[1])
frame.drop_duplicates()
"""

OURS = """
import sys
from pathlib import Path
from aiorch.contracts import CleaningSpec
from aiorch.csv.stream import clean_file
folder = Path(sys.argv[2])
output, _ = clean_file(Path(sys.argv[1]), "big.csv", CleaningSpec(), folder / "cleaned.csv", folder / "changes.csv")
print(output.rows_before, output.rows_after, output.duplicates_removed, output.change_count)
"""
# Each run reports its own peak RSS (ru_maxrss of the process itself).
PEAK = "\nimport resource\nprint('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"


def measure(code: str, *args: str) -> tuple[float, float, str]:
    """Seconds, peak RSS in MiB and stdout of `code` run in a fresh Python process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code + PEAK, *args], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    peak = int(lines[-1].split()[1]) / 1024
    return elapsed, peak, "\n".join(lines[:-1])
