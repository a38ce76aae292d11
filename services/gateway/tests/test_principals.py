"""Principals: the keys file, scopes, constant-time lookup, reloading, the key CLI."""

import hashlib
import os
import subprocess
import sys

import pytest

from aiorch.gateway.config import GatewaySettings
from aiorch.gateway.keys import create
from aiorch.gateway.principals import KeysFileError, Principals, key_digest, parse_keys_file

ALICE = "alice-key-0123456789abcdef"
DIGEST = hashlib.sha256(ALICE.encode()).hexdigest()


def test_keys_file_lines_become_principals(tmp_path):
    path = tmp_path / "keys"
    path.write_text(f"# name scopes sha256\n\nalice submit,read {DIGEST}  # the UI\nops admin {'a' * 64} retention=30d\n")
    alice, ops = parse_keys_file(path)
    assert alice.name == "alice" and alice.scopes == {"submit", "read"} and not alice.admin
    assert ops.admin and ops.retention_s == 30 * 86400 and ops.can("submit")


@pytest.mark.parametrize("line, complaint", [
    (f"alice submit,read {ALICE}", "SHA-256"),
    (f"alice write {DIGEST}", "scopes"),
    (f"alice {DIGEST}", "expected"),
    (f"al/ice read {DIGEST}", "invalid name"),
    (f"alice read {DIGEST} keep=3d", "unknown option"),
    (f"alice read {DIGEST} retention=soon", "not a duration"),
])
def test_a_malformed_line_is_refused_with_its_line_number(tmp_path, line, complaint):
    path = tmp_path / "keys"
    path.write_text(f"# comment\nbob read {'b' * 64}\n{line}\n")
    with pytest.raises(KeysFileError, match=rf"keys:3: .*{complaint}"):
        parse_keys_file(path)


def test_duplicates_are_refused(tmp_path):
    path = tmp_path / "keys"
    path.write_text(f"alice read {DIGEST}\nalice submit {'c' * 64}\n")
    with pytest.raises(KeysFileError, match=":2: principal 'alice' appears twice"):
        parse_keys_file(path)


def test_the_gateway_refuses_to_start_on_a_malformed_file(tmp_path):
    path = tmp_path / "keys"
    path.write_text(f"alice read {DIGEST}\nbob submit,read not-a-hash\n")
    env = {"PATH": os.environ["PATH"], "AIORCH_API_KEYS_FILE": str(path), "AIORCH_NATS_URL": "nats://127.0.0.1:1"}
    done = subprocess.run([sys.executable, "-m", "aiorch.gateway"], env=env, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert f"{path}:2:" in done.stderr and "SHA-256" in done.stderr


def test_env_keys_are_principals_of_their_own(tmp_path):
    other = "other-key-0123456789abcdef"
    principals = GatewaySettings(api_keys=f"{ALICE},{other}").principals()
    first, second = principals.authenticate(ALICE), principals.authenticate(other)
    assert first.name == f"key-{key_digest(ALICE)[:8]}" and second.name != first.name
    assert first.scopes == {"submit", "read"} and not first.sees(second.name) and first.sees(first.name)
    assert principals.authenticate("wrong-key-0123456789abcdef") is None and principals.authenticate("") is None


def test_a_removed_line_revokes_the_key_at_once(tmp_path):
    path = tmp_path / "keys"
    path.write_text(f"alice submit,read {DIGEST}\n")
    principals = Principals([], path, 3600)
    assert principals.authenticate(ALICE).name == "alice"
    path.write_text("# nobody\n")
    assert principals.authenticate(ALICE) is None
    path.write_text("broken line\n")  # a broken file grants nothing
    assert principals.authenticate(ALICE) is None


def test_the_cli_prints_a_key_once_and_stores_only_its_hash(tmp_path):
    path = tmp_path / "keys"
    key, line = create("robot", "read", path, "3d")
    assert key not in path.read_text() and hashlib.sha256(key.encode()).hexdigest() in path.read_text()
    (robot,) = parse_keys_file(path)
    assert robot.name == "robot" and robot.scopes == {"read"} and robot.retention_s == 3 * 86400
    assert Principals([], path, 60).authenticate(key).name == "robot"
    with pytest.raises(SystemExit):
        create("robot", "read", path, None)
    done = subprocess.run([sys.executable, "-m", "aiorch.gateway.keys", "create", "ci", "--scopes", "submit",
                           "--file", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and len(done.stdout.strip()) > 30 and done.stdout.strip() not in path.read_text()
    assert [p.name for p in parse_keys_file(path)] == ["robot", "ci"]
