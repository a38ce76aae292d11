"""Create an API key: `python -m aiorch.gateway.keys create NAME --scopes submit,read [--file PATH]`.

The key is printed once, on standard output; only its SHA-256 is written to the keys file
(AIORCH_API_KEYS_FILE), which the gateway re-reads on change. Without --file, the line to
add is printed on standard error.
"""

import argparse
import secrets
import sys
from pathlib import Path

from .principals import NAME_PATTERN, SCOPES, KeysFileError, key_digest, parse_keys_file


def create(name: str, scopes: str, keys_file: Path | None, retention: str | None) -> tuple[str, str]:
    if not NAME_PATTERN.match(name):
        raise SystemExit(f"invalid name {name!r}")
    wanted = [scope for scope in scopes.split(",") if scope]
    if not wanted or any(scope not in SCOPES for scope in wanted):
        raise SystemExit(f"--scopes must be a comma-separated subset of {','.join(SCOPES)}")
    key = "aio_" + secrets.token_urlsafe(32)
    line = f"{name} {','.join(wanted)} {key_digest(key)}" + (f" retention={retention}" if retention else "")
    if keys_file is not None:
        existing = parse_keys_file(keys_file) if keys_file.exists() else []
        if any(principal.name == name for principal in existing):
            raise SystemExit(f"{keys_file} already has a principal {name!r}; remove its line to revoke it first")
        text = keys_file.read_text() if keys_file.exists() else ""
        candidate = text + ("" if not text or text.endswith("\n") else "\n") + line + "\n"
        temporary = keys_file.with_name(f".{keys_file.name}.new")
        temporary.write_text(candidate)
        try:
            parse_keys_file(temporary)
        except KeysFileError as exc:
            temporary.unlink()
            raise SystemExit(str(exc)) from None
        temporary.replace(keys_file)
    return key, line


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m aiorch.gateway.keys", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("create", help="create a key and print it once")
    make.add_argument("name")
    make.add_argument("--scopes", default="submit,read", help="comma-separated: submit, read, admin")
    make.add_argument("--file", type=Path, help="the keys file to append the principal to")
    make.add_argument("--retention", help="keep this principal's tasks this long (e.g. 30d)")
    args = parser.parse_args(argv)
    key, line = create(args.name, args.scopes, args.file, args.retention)
    print(key)
    if args.file is None:
        print(f"add this line to the keys file (AIORCH_API_KEYS_FILE):\n{line}", file=sys.stderr)
    else:
        print(f"added {args.name!r} to {args.file}; the key above is not stored anywhere", file=sys.stderr)


if __name__ == "__main__":
    main()
