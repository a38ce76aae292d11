"""How each agent's result is shown."""

import io

import pandas as pd
import streamlit as st

from .client import GatewayClient


def sentiment(output: dict) -> None:
    left, right = st.columns([1, 2])
    with left:
        st.metric("Overall", output["overall_label"], f"{output['mean_compound']:+.2f} compound")
        distribution = pd.DataFrame({"texts": output["distribution"]})
        st.bar_chart(distribution, horizontal=True, height=180)
        if output.get("top_emotions"):
            st.caption("Top emotions: " + ", ".join(output["top_emotions"]))
    with right:
        table = pd.DataFrame([
            {"text": item["text"][:200], "label": item["label"], "compound": item["compound"],
             "positive": item["positive"], "neutral": item["neutral"], "negative": item["negative"],
             "emotions": ", ".join(item.get("top_emotions", []))}
            for item in output["items"]
        ])
        st.dataframe(table, hide_index=True, width="stretch", height=min(38 * (len(table) + 1), 400))


def csv(output: dict, task_id: str, client: GatewayClient) -> None:
    a, b, c, d = st.columns(4)
    a.metric("Rows", f"{output['rows_after']:,}", f"{output['rows_after'] - output['rows_before']:,}")
    b.metric("Changes", f"{output['change_count']:,}")
    c.metric("Duplicates removed", f"{output['duplicates_removed']:,}")
    d.metric("Validation failures", f"{output['validation_failures']:,}")
    missing = pd.DataFrame({"before": output["missing_before"], "after": output["missing_after"]}).fillna(0)
    left, right = st.columns(2)
    with left:
        st.markdown("**Missing values per column**")
        st.bar_chart(missing, height=220, stack=False)
    with right:
        st.markdown("**Changes per rule**")
        if output["changes_per_rule"]:
            st.bar_chart(pd.DataFrame({"changes": output["changes_per_rule"]}), horizontal=True, height=220)
        else:
            st.caption("No changes.")
    before = {p["name"]: p for p in output["profile_before"]}
    after = {p["name"]: p for p in output["profile_after"]}
    st.markdown("**Profile, before → after**")
    st.dataframe(pd.DataFrame([
        {"column": name, "type": p["inferred_type"], "missing before": p["missing"],
         "missing after": after[name]["missing"] if name in after else "dropped",
         "unique before": p["unique"], "unique after": after[name]["unique"] if name in after else "",
         "issues": "; ".join(p["issues"])}
        for name, p in before.items()
    ]), hide_index=True, width="stretch")
    if output["changes_sample"]:
        st.markdown(f"**Change log** (first {len(output['changes_sample'])} of {output['change_count']:,})")
        st.dataframe(pd.DataFrame(output["changes_sample"]), hide_index=True, width="stretch", height=250)
    downloads = st.columns(2)
    for column, key in zip(downloads, ("cleaned_file", "change_log_file"), strict=True):
        ref = output.get(key)
        if ref:
            column.download_button(
                f"Download {ref['name']}", data=lambda n=ref["name"]: client.artifact(task_id, n),
                file_name=ref["name"], mime="text/csv", key=f"{task_id}-{key}", on_click="ignore",
            )


def medical(output: dict, task_id: str, client: GatewayClient) -> None:
    st.warning(output["disclaimer"])
    for image in output["images"]:
        st.markdown(f"**{image['file']}**")
        if image["status"] == "refused":
            st.error(image["refusal"])
            continue
        st.table([{"class": item["name"], "probability": f"{item['probability']:.1%}", "counted as": item["severity"]}
                  for item in image["top"]])
        if image.get("heatmap"):
            st.image(client.artifact(task_id, image["heatmap"]["name"]), caption="Grad-CAM: where the model looked",
                     width=320)
        for warning in image["warnings"]:
            st.caption(f"⚠ {warning}")


ACTION_MARKS = {"done": "✅", "not_done": "❌", "skipped": "⏭️"}


def _plain(text: str) -> str:
    """A page's own words shown as text, not as Markdown or links."""
    return "".join(f"\\{char}" if char in "\\`*_[]<>#|~$" else char for char in text)


def browser(output: dict, task_id: str, step_id: str, client: GatewayClient) -> None:
    """The browser's actions as a checklist, the final screenshot, the tables read, then the page's text."""
    where = output.get("title") or output.get("url", "")
    pages = output.get("pages_visited") or 0
    st.caption(f"{output.get('mode', 'offline')} · {_plain(where)} · {output.get('url', '')}"
               + (f" · {pages} page{'s' if pages != 1 else ''} visited" if pages else ""))
    actions = output.get("steps") or []
    if actions:
        done = sum(action["status"] == "done" for action in actions)
        st.markdown(f"**Actions** ({done} of {len(actions)} done)")
        for index, action in enumerate(actions):
            target = f" → {action['target']}" if action.get("target") else ""
            st.checkbox(f"{ACTION_MARKS.get(action['status'], '')} {_plain(action['description'])}{_plain(target)}",
                        value=action["status"] == "done", disabled=True, key=f"{task_id}-{step_id}-action-{index}")
            if action["status"] != "done":
                why = action.get("reason") or ("skipped" if action["status"] == "skipped" else "not done")
                seen = action.get("candidates") or []
                st.caption(f"{'Skipped' if action['status'] == 'skipped' else 'Not done'}: {_plain(why)}"
                           + (f" · closest on the page: {_plain(', '.join(seen[:8]))}" if seen else ""))
    elif output.get("actions"):  # results from before the checklist: what was done, in order
        st.markdown("**Actions**")
        for index, text in enumerate(output["actions"]):
            st.checkbox(_plain(text), value=True, disabled=True, key=f"{task_id}-{step_id}-action-{index}")
    shot = output.get("screenshot")
    if shot:
        try:
            st.image(client.artifact(task_id, f"{step_id}/{shot['name']}"), caption="The page as the actions left it",
                     width="stretch")
        except Exception as problem:  # the result stays readable without its picture
            st.caption(f"Screenshot unavailable: {problem}")
    for number, table in enumerate(output.get("tables") or [], start=1):
        name = table.get("caption") or f"Table {number}"
        st.markdown(f"**{_plain(name)}** ({table.get('rows', 0):,} rows)")
        ref = table.get("file")
        if not ref:
            st.caption("Columns: " + _plain(", ".join(table.get("header") or [])))
            continue
        try:
            data = client.artifact(task_id, f"{step_id}/{ref['name']}")
            st.dataframe(pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False), hide_index=True,
                         width="stretch", height=min(38 * (table.get("rows", 0) + 1), 400))
            st.download_button(f"Download {ref['name']}", data=data, file_name=ref["name"], mime="text/csv",
                               key=f"{task_id}-{step_id}-table-{number}", on_click="ignore")
        except Exception as problem:
            st.caption(f"{ref['name']} unavailable: {problem}")
    items = output.get("items") or []
    if items:
        with st.expander(f"Extracted items ({len(items)})"):
            st.dataframe(pd.DataFrame({"item": items}), hide_index=True, width="stretch")
    if output.get("main_text") or output.get("headings"):
        with st.expander("Page text"):
            for heading in output.get("headings") or []:
                st.markdown(f"**{_plain(heading)}**")
            st.text(output.get("main_text", ""))
    links = output.get("links") or []
    if links:
        with st.expander(f"Links ({len(links)})"):
            st.dataframe(pd.DataFrame(links), hide_index=True, width="stretch")


def generic(output: dict) -> None:
    st.json(output, expanded=False)


def result(step: dict, task_id: str, client: GatewayClient) -> None:
    result = step.get("result") or {}
    output = result.get("output")
    if output is None and result.get("output_ref"):
        import json

        output = json.loads(client.artifact(task_id, f"{step['id']}/{result['output_ref']['name']}"))
    if output is None:
        return
    {"sentiment": lambda: sentiment(output), "csv": lambda: csv(output, task_id, client),
     "medical": lambda: medical(output, task_id, client),
     "browser": lambda: browser(output, task_id, step["id"], client)}.get(
        output.get("agent"), lambda: generic(output))()
