"""The UI in real Chromium (Playwright) against the whole system. Each test leaves a
screenshot of its finished page in test-artifacts/screenshots/."""

import re

import pytest

pytestmark = pytest.mark.e2e

ROWS = 40_000
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def messy_csv() -> bytes:
    lines = [f"{n},{'usa' if n % 7 == 0 else 'USA'},{' Berlin' if n % 5 == 0 else 'Berlin'},${n % 90}.50,great stay"
             for n in range(ROWS)]
    return ("id,country,city,price,comment\n" + "\n".join(lines) + "\n").encode()


def download(page, button: str) -> str:
    with page.expect_download(timeout=30_000) as started:
        page.get_by_role("button", name=button).click()
    return started.value.path().read_text()


def step_status(page) -> str:
    return page.locator(".step-status").first.inner_text()


def test_clean_a_csv_and_watch_it_finish_without_reloading(page, tmp_path, server_messages):
    upload = tmp_path / "bookings.csv"
    upload.write_bytes(messy_csv())
    page.get_by_label("Request").fill("clean it")
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_text("bookings.csv").wait_for()
    page.get_by_role("button", name="Submit").click()
    seen = []
    page.locator(".step-status").first.wait_for(timeout=60_000)
    for _ in range(600):
        status = step_status(page)
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == "completed":
            break
        page.wait_for_timeout(100)
    # Followed live without a reload: a state before the end, then the end.
    assert seen[-1] == "completed" and {"pending", "running"} & set(seen[:-1]), seen
    page.get_by_text("Changes per rule").first.wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"Cleaned\s+bookings\.csv")).first.wait_for(timeout=10_000)
    # Once finished, the page redraws once so that the history lists the task.
    page.locator("[data-testid=stSidebar]").get_by_role("button", name=re.compile("clean it")).wait_for(timeout=10_000)
    # ...and then stops redrawing: a redraw would replace the download links under the cursor.
    page.wait_for_timeout(1000)
    settled = len(server_messages)
    page.wait_for_timeout(2000)
    assert len(server_messages) == settled, "the finished task is still being redrawn"
    cleaned = download(page, "Download bookings.cleaned.csv")
    assert cleaned.startswith("id,country,city,price,comment\n0,USA,Berlin,0.50,great stay")


def test_a_sentiment_request(page):
    page.get_by_label("Request").fill('What is the sentiment of "I love this place" and "the food was awful"?')
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Overall").wait_for(timeout=20_000)
    page.get_by_text("the food was awful").first.wait_for(timeout=10_000)
    assert step_status(page) == "completed"


def test_a_failing_step_shows_its_reason(page):
    page.get_by_label("Request").fill("What is the sentiment of this text: ''")
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("s1 failed:").wait_for(timeout=20_000)
    page.get_by_text(re.compile("no text to analyse")).first.wait_for(timeout=10_000)
    assert step_status(page) == "failed"


def test_an_upload_over_the_limit_or_of_the_wrong_type_is_refused_with_the_reason(page, tmp_path):
    big = tmp_path / "big.csv"
    big.write_bytes(b"a,b\n" + b"1,2\n" * 1_300_000)
    document = tmp_path / "report.pdf"
    document.write_bytes(PDF)
    page.get_by_label("Request").fill("clean it")
    page.locator("input[type=file]").set_input_files([str(big), str(document)])
    page.get_by_text("report.pdf").first.wait_for()
    page.get_by_role("button", name="Submit").click()
    page.get_by_text(re.compile(r"big\.csv is 5\.0 MB; the limit is 4\.0 MB per file")).wait_for(timeout=10_000)
    # The page writes its refusals one after the other: wait for the second as well.
    page.get_by_text(re.compile(r"report\.pdf: \.pdf files are not accepted")).wait_for(timeout=10_000)


def test_a_renamed_file_is_refused_by_the_gateway_and_the_page_says_why(page, tmp_path):
    fake = tmp_path / "data.csv"
    fake.write_bytes(PDF)
    page.get_by_label("Request").fill("clean it")
    page.locator("input[type=file]").set_input_files(str(fake))
    page.get_by_text("data.csv").first.wait_for()
    page.get_by_role("button", name="Submit").click()
    page.get_by_text(re.compile(r"Refused \(415\): data\.csv is application/pdf")).wait_for(timeout=10_000)


def test_history_reopens_a_task(page):
    page.get_by_label("Request").fill('sentiment of "history works"')
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Overall").wait_for(timeout=20_000)
    page.reload()
    page.get_by_role("button", name=re.compile("history works")).first.click()
    page.get_by_text("Overall").wait_for(timeout=20_000)


def test_the_gateway_going_down_shows_a_banner(page, ui_system):
    gateway = ui_system.services["gateway"]
    gateway.stop()
    try:
        page.reload()
        page.get_by_text("The gateway is not reachable.").wait_for(timeout=15_000)
        assert page.get_by_text("Traceback").count() == 0
    finally:
        ui_system.start_service("aiorch.gateway", health_port=ui_system.gateway_port)


def test_two_tabs_each_follow_their_own_task(browser, ui_system):
    pages = []
    for text in ("I adore this", "I detest this"):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        tab = context.new_page()
        tab.goto(f"http://127.0.0.1:{ui_system.ui_port}")
        tab.get_by_label("Request").fill(f'What is the sentiment of "{text}"?')
        tab.get_by_role("button", name="Submit").click()
        pages.append((tab, text))
    for tab, text in pages:
        tab.get_by_text("Overall").wait_for(timeout=30_000)
        other = "I detest this" if text == "I adore this" else "I adore this"
        main = tab.locator("[data-testid=stMain]")
        assert main.get_by_text(text).count() >= 1 and main.get_by_text(other).count() == 0
        tab.context.close()
