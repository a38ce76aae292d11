"""How each agent's result is shown."""

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
     "medical": lambda: medical(output, task_id, client)}.get(
        output.get("agent"), lambda: generic(output))()
