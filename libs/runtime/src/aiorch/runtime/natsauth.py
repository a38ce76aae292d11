"""NATS users and subject permissions for every service, from one source.

Each agent may pull only from its own consumer (its own request subject) and publish
only step results and progress; the gateway submits and cancels tasks and reads records
and events; the planner administers the streams. Each service gets its own inbox prefix
(`_INBOX_<service>`), so nobody can read another's replies.

Other systems that submit tasks straight on the bus are *bus principals*: each gets a
NATS user of its own name that may publish only on `aiorch.tasks.submitted.<name>` (and
read its own inbox, for the JetStream ack). The planner takes the task's owner from that
subject and refuses (a `rejected` task with the reason) a message whose `owner` field
names someone else, so a bus principal can submit only as itself. It cannot read events,
records or files on the bus: it follows its tasks through the gateway with an API key of
the same name (a bus principal `crm` and the keys-file principal `crm` are one principal).
The gateway's user publishes on `aiorch.tasks.submitted` for any principal it has
authenticated.

`make nats-auth` writes deploy/nats/auth.conf; passwords are not in it but referenced
as environment variables (AIORCH_NATS_PASSWORD_<USER>), which nats-server resolves.
Bus principals are added with `AIORCH_BUS_PRINCIPALS="crm billing" make nats-auth`
(or `python -m aiorch.runtime.natsauth crm billing`).
"""

import json
import os
import sys

from aiorch.contracts import CATALOG, REGISTRY_BUCKET, subjects

JS_API = "$JS.API"
KV_STREAM = f"KV_{subjects.KV_TASKS}"
REGISTRY_STREAM = f"KV_{REGISTRY_BUCKET}"


def inbox_prefix(service: str) -> str:
    return f"_INBOX_{service}"


def password_variable(service: str) -> str:
    return f"AIORCH_NATS_PASSWORD_{service.upper().replace('-', '_')}"


def _stream_info(*streams: str) -> list[str]:
    return [f"{JS_API}.INFO", *(f"{JS_API}.STREAM.INFO.{stream}" for stream in streams)]


def agent_permissions(agent: str) -> dict:
    consumer = subjects.agent_consumer(agent)
    work = subjects.STREAM_WORK
    return {
        "publish": {
            "allow": [
                subjects.STEP_RESULTS,
                subjects.STEP_PROGRESS,
                *_stream_info(work, subjects.STREAM_RESULTS),
                f"{JS_API}.CONSUMER.DURABLE.CREATE.{work}.{consumer}",
                f"{JS_API}.CONSUMER.INFO.{work}.{consumer}",
                f"{JS_API}.CONSUMER.MSG.NEXT.{work}.{consumer}",
                f"$JS.ACK.{work}.{consumer}.>",
                # Its own entries in the agent registry (aiorch.runtime.registry).
                f"$KV.{REGISTRY_BUCKET}.{agent}.>",
                f"{JS_API}.STREAM.INFO.{REGISTRY_STREAM}",
            ],
        },
        "subscribe": {"allow": [f"{inbox_prefix(agent)}.>"]},
    }


def gateway_permissions() -> dict:
    tasks, kv = subjects.STREAM_TASKS, KV_STREAM
    return {
        "publish": {
            "allow": [
                subjects.TASKS_SUBMITTED,
                subjects.TASK_CANCEL_ALL,
                subjects.PLANNER_PLAN,
                f"$KV.{subjects.KV_TASKS}.>",
                *_stream_info(tasks, kv, REGISTRY_STREAM),
                f"{JS_API}.DIRECT.GET.{kv}.>",
                f"{JS_API}.STREAM.MSG.GET.{kv}",
                # DELETE /v1/tasks/{id} and expiry: a task's events and cancel requests go too.
                f"{JS_API}.STREAM.PURGE.{tasks}",
                f"{JS_API}.STREAM.MSG.DELETE.{tasks}",
                # Ephemeral ordered consumers: event replay over the WebSocket, KV key listing.
                *(f"{JS_API}.CONSUMER.{verb}.{stream}{suffix}" for stream in (tasks, kv, REGISTRY_STREAM)
                  for verb in ("CREATE", "DELETE", "INFO") for suffix in ("", ".>")),
                "$JS.FC.>",
            ],
        },
        "subscribe": {"allow": [f"{inbox_prefix('gateway')}.>"]},
    }


def planner_permissions() -> dict:
    return {
        "publish": {
            "allow": [
                f"{subjects.TASKS_PREFIX}.*.events",
                subjects.AGENT_REQUESTS_ALL,
                f"$KV.{subjects.KV_TASKS}.>",
                f"{JS_API}.>",  # the planner provisions streams, consumers and the bucket
                "$JS.ACK.>",
            ],
        },
        "subscribe": {"allow": [f"{inbox_prefix('planner')}.>", subjects.PLANNER_PLAN]},
        "allow_responses": True,  # answers dry-run plan requests
    }


def bus_principal_permissions(name: str) -> dict:
    """Another system submitting tasks as `name`, and nothing else."""
    return {
        "publish": {"allow": [subjects.tasks_submitted_by(name)]},
        "subscribe": {"allow": [f"{inbox_prefix(name)}.>"]},
    }


def service_users() -> list[str]:
    return ["gateway", "planner", *CATALOG]


def check_bus_principals(names) -> list[str]:
    """The names, checked: usable in a subject, not a service's user, no two alike."""
    taken = {password_variable(user): user for user in service_users()}
    checked = []
    for name in names:
        if not subjects.is_valid_bus_principal(name):
            raise ValueError(f"bus principal {name!r}: use letters, digits, '_' and '-' (at most 64), "
                             f"not {', '.join(sorted(subjects.RESERVED_BUS_PRINCIPALS))}")
        clash = taken.get(password_variable(name))
        if clash is not None:
            raise ValueError(f"bus principal {name!r} clashes with the NATS user {clash!r}")
        taken[password_variable(name)] = name
        checked.append(name)
    return checked


def all_permissions(bus_principals=()) -> dict[str, dict]:
    users = {"gateway": gateway_permissions(), "planner": planner_permissions()}
    users.update({agent: agent_permissions(agent) for agent in CATALOG})
    users.update({name: bus_principal_permissions(name) for name in check_bus_principals(bus_principals)})
    return users


def render_config(bus_principals=()) -> str:
    """The `authorization` block for nats-server (its config syntax accepts JSON values)."""
    lines = [
        "# Generated by `make nats-auth` from aiorch.runtime.natsauth; do not edit.",
        "# Passwords come from the environment of nats-server.",
        "authorization {",
        "  users = [",
    ]
    for user, permissions in all_permissions(bus_principals).items():
        entry = {"user": user, "password": f"${password_variable(user)}", "permissions": permissions}
        text = json.dumps(entry, indent=2).replace(f'"${password_variable(user)}"', f"${password_variable(user)}")
        lines.append("    " + text.replace("\n", "\n    ") + ",")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    names = [*os.environ.get("AIORCH_BUS_PRINCIPALS", "").replace(",", " ").split(), *argv]
    try:
        print(render_config(names), end="")
    except ValueError as exc:
        print(f"natsauth: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
