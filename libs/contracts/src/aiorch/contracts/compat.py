"""Export the JSON Schemas into the package and check changes for compatibility.

An incompatible change (field removed, type narrowed or changed, new required field,
enum value or union variant removed) is allowed only with a new major version.
Run `python -m aiorch.contracts.compat --write` (`make schemas`) after changing a model.
"""

import argparse
import json
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .version import SCHEMA_VERSION

SCHEMA_DIR = Path(str(resources.files("aiorch.contracts") / "schemas"))
VERSION_KEY = "x-schema-version"


def current_schemas() -> dict[str, dict[str, Any]]:
    from . import SCHEMA_MODELS

    return {name: _export(model) for name, model in SCHEMA_MODELS.items()}


def _export(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    schema[VERSION_KEY] = SCHEMA_VERSION
    return schema


def stored_schemas(directory: Path = SCHEMA_DIR) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}


def major(version: str) -> int:
    return int(version.split(".", 1)[0])


def incompatibilities(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What a reader or writer of `old` would trip over in `new`."""
    problems: list[str] = []
    old_defs, new_defs = old.get("$defs", {}), new.get("$defs", {})
    _compare(old, new, old.get("title", "<root>"), problems)
    for name, old_def in old_defs.items():
        if name not in new_defs:
            problems.append(f"{name}: definition removed")
        else:
            _compare(old_def, new_defs[name], name, problems)
    return problems


def _alternatives(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        for branch in branches:
            yield from _alternatives(branch)
    else:
        yield schema


def _kind(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return "ref:" + schema["$ref"].rsplit("/", 1)[-1]
    if "const" in schema:
        return f"const:{json.dumps(schema['const'])}"
    if "enum" in schema:
        return "enum"
    kind = schema.get("type", "any")
    return kind if isinstance(kind, str) else "|".join(sorted(kind))


def _compare(old: dict[str, Any], new: dict[str, Any], path: str, problems: list[str]) -> None:
    new_by_kind = {_kind(alt): alt for alt in _alternatives(new)}
    if "any" in new_by_kind:
        return
    for old_alt in _alternatives(old):
        kind = _kind(old_alt)
        new_alt = new_by_kind.get(kind)
        if new_alt is None:
            if kind == "integer" and "number" in new_by_kind:
                continue
            problems.append(f"{path}: type {kind} no longer accepted (now {sorted(new_by_kind)})")
            continue
        if kind == "enum":
            removed = [value for value in old_alt["enum"] if value not in new_alt["enum"]]
            if removed:
                problems.append(f"{path}: enum values removed {removed}")
        elif kind == "array" and "items" in old_alt:
            _compare(old_alt["items"], new_alt.get("items", {}), f"{path}[]", problems)
        elif kind == "object":
            _compare_object(old_alt, new_alt, path, problems)


def _compare_object(old: dict[str, Any], new: dict[str, Any], path: str, problems: list[str]) -> None:
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{path}.{name}: field removed")
        else:
            _compare(old_prop, new_props[name], f"{path}.{name}", problems)
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        problems.append(f"{path}.{name}: new required field")
    old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
    if isinstance(old_extra, dict) and isinstance(new_extra, dict):
        _compare(old_extra, new_extra, f"{path}{{}}", problems)


def check(stored: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]) -> list[str]:
    """Incompatible changes made without a major version bump."""
    problems: list[str] = []
    for name, old in stored.items():
        new = current.get(name)
        if new is None:
            problems.append(f"{name}: message removed")
            continue
        if major(old[VERSION_KEY]) != major(new[VERSION_KEY]):
            continue
        problems.extend(incompatibilities(old, new))
    return problems


def write(directory: Path = SCHEMA_DIR) -> list[str]:
    current = current_schemas()
    problems = check(stored_schemas(directory), current)
    if problems:
        return problems
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.json"):
        if path.stem not in current:
            path.unlink()
    for name, schema in current.items():
        (directory / f"{name}.json").write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="re-export the schemas into the package")
    args = parser.parse_args()
    if args.write:
        problems = write()
    else:
        problems = check(stored_schemas(), current_schemas())
    for problem in problems:
        print(f"incompatible without a major version bump: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
