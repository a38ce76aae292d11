from aiorch.ui.progress import fold, human_size, upload_problems

PLAN = {"planner": "offline", "explanation": None, "steps": [
    {"id": "s1", "agent": "csv", "instruction": "clean"},
    {"id": "s2", "agent": "sentiment", "instruction": "mood"}]}


def event(seq, type_, **fields):
    return {"seq": seq, "type": type_, "at": f"2026-01-01T00:00:{seq:02d}+00:00", **fields}


def test_events_fold_into_step_states_with_timing():
    events = [event(1, "submitted"), event(2, "planned", plan=PLAN), event(3, "step_started", step_id="s1", attempt=1),
              event(4, "progress", step_id="s1", message="half way", fraction=0.5)]
    view = fold(events)
    assert view.status == "running" and view.steps["s1"].status == "running" and view.steps["s2"].status == "pending"
    assert view.steps["s1"].messages == ["half way"] and view.steps["s1"].fraction == 0.5
    events += [event(6, "step_completed", step_id="s1"), event(7, "step_started", step_id="s2"),
               event(9, "step_failed", step_id="s2", error={"message": "no text to analyse"}),
               event(10, "failed", message="step s2 failed", answer="...")]
    view = fold(events)
    assert view.finished and view.status == "failed" and view.reason == "step s2 failed"
    assert view.steps["s1"].seconds(None) == 3.0 and view.steps["s2"].error == "no text to analyse"


def test_cancel_marks_unfinished_steps():
    view = fold([event(1, "planned", plan=PLAN), event(2, "step_started", step_id="s1"), event(3, "cancelled")])
    assert [s.status for s in view.steps.values()] == ["cancelled", "cancelled"]


LIMITS = {"accepted_media_types": ["text/csv", "text/plain"], "max_upload_bytes": 1000, "max_files": 2}


def test_uploads_are_checked_before_sending():
    assert upload_problems([("a.csv", 10), ("b.txt", 10)], LIMITS) == []
    problems = upload_problems([("a.csv", 5000), ("photo.png", 10), ("c.csv", 1)], LIMITS)
    assert problems == ["3 files: at most 2 per task", "a.csv is 4.9 KB; the limit is 1,000 bytes per file",
                        "photo.png: .png files are not accepted (accepted: csv, log, md, text, txt)"]


def test_human_sizes():
    assert [human_size(n) for n in (512, 2048, 25 * 1024 * 1024)] == ["512 bytes", "2.0 KB", "25.0 MB"]
