"""`aiorch plan "request" [--file PATH ...]`: the plan the planner would make, as JSON.

Nothing is uploaded, stored or sent: files are only read to learn their media type, the
way the gateway types uploads. The OpenAI planner is used when OPENAI_API_KEY is set
(AIORCH_PLANNER_BACKEND as for the service), the offline planner otherwise.
"""

import argparse
import asyncio
import hashlib
import sys
from pathlib import Path

from aiorch.contracts import FileRef, new_task_id
from aiorch.runtime.mediatypes import SNIFF_BYTES, detect_media_type


def file_ref(path: Path) -> FileRef:
    data = path.read_bytes()
    return FileRef(key=f"local/{path.name}", name=path.name, media_type=detect_media_type(data[:SNIFF_BYTES], path.name),
                   size=len(data), sha256=hashlib.sha256(data).hexdigest())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aiorch", description="aiorch command line")
    commands = parser.add_subparsers(dest="command", required=True)
    plan = commands.add_parser("plan", help="print the plan for a request as JSON (dry run, no side effects)")
    plan.add_argument("request", help="the request, as a person would write it")
    plan.add_argument("--file", dest="files", action="append", type=Path, default=[], metavar="PATH",
                      help="a file that would be attached (repeatable)")
    plan.add_argument("--offline", action="store_true", help="use the offline planner even if OpenAI is configured")
    args = parser.parse_args(argv)
    if not args.request.strip():
        parser.error("the request is empty")
    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    from .app import make_planner
    from .config import PlannerSettings
    from .planners import OfflinePlanner

    planner = OfflinePlanner() if args.offline else make_planner(PlannerSettings())
    files = [file_ref(path) for path in args.files]
    result = asyncio.run(planner.plan(new_task_id(), args.request, files, {}))
    print(result.model_dump_json(indent=2, exclude={"schema_version", "created_at", "message_id"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
