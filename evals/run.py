"""`make eval`: run each agent's quality evaluation on real public data and print one table.

Each agent's evaluation is a module here with `evaluate(args) -> list[EvalRow]`; details go to
stderr as they run, the table to stdout at the end. `--only csv,medical` picks agents.
"""

import argparse
import importlib
import sys
import time
import traceback

from evals.common import EvalRow, table

AGENTS = {"browser": "evals.browser_miniwob", "csv": "evals.csv_cleaning", "medical": "evals.medical_isic"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(AGENTS), help="comma-separated agents (default: all)")
    parser.add_argument("--quick", action="store_true", help="a few cases per agent (a smoke run)")
    args = parser.parse_args()
    rows: list[EvalRow] = []
    failed = False
    for agent in [name.strip() for name in args.only.split(",") if name.strip()]:
        if agent not in AGENTS:
            parser.error(f"unknown agent '{agent}': choose from {', '.join(AGENTS)}")
        started = time.perf_counter()
        print(f"== {agent}", file=sys.stderr, flush=True)
        try:
            rows += importlib.import_module(AGENTS[agent]).evaluate(args)
        except Exception:  # one agent's broken evaluation must not hide the others' figures
            traceback.print_exc()
            rows.append(EvalRow(agent, "(evaluation failed, see above)", 0, "-", time.perf_counter() - started))
            failed = True
    print(table(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
