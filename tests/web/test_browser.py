"""The chat page in a real browser (Debian's chromium) against a real server: log in, ask
two questions, watch the answers stream in and the bank's tools show while they run; then
find that conversation in the admin by its id and read both turns in one transcript.

Screenshots go to ``FINTALK_SCREENSHOTS_DIR`` when set (``make screenshots`` writes the
ones in docs/), otherwise to the test's temporary directory.
"""

import os
from pathlib import Path

import pytest

from tests.web.browser import chromium_or_skip, chromium_start
from tests.web.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

# Records, at every change of the transcript, what the latest answer looked like then.
WATCH_TRANSCRIPT = """
window.seen = [];
new MutationObserver(() => {
  const turn = [...document.querySelectorAll("#transcript .turn.assistant")].pop();
  if (!turn) return;
  window.seen.push({
    turn: document.querySelectorAll("#transcript .turn.assistant").length,
    state: turn.dataset.state,
    length: turn.querySelector(".text").textContent.length,
    activity: [...turn.querySelectorAll(".activity")].map((line) => line.dataset.state),
  });
}).observe(document.getElementById("transcript"),
           {subtree: true, childList: true, characterData: true, attributes: true});
"""


@pytest.fixture
def browser(tmp_path):
    chromium_or_skip()
    driver = chromium_start(tmp_path / "profile")
    yield driver
    driver.quit()


@pytest.fixture
def screenshots(tmp_path) -> Path:
    folder = Path(os.environ.get("FINTALK_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def log_in(browser, url: str) -> None:
    """Open the chat page, which sends the browser to the admin's login; log in; wait for
    the chat page to come back."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{url}/")
    assert "/admin/login/" in browser.current_url  # the page is for staff only
    browser.find_element(By.ID, "id_username").send_keys("teller")
    browser.find_element(By.ID, "id_password").send_keys(STAFF_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 60).until(lambda b: b.find_elements(By.CSS_SELECTOR, "[role=log]"))


def ask(browser, question: str, *, answers_before: int) -> str:
    """Type a question into the box labelled Message, send it, wait for the whole answer."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    label = browser.find_element(By.XPATH, "//label[normalize-space()='Message']")
    box = browser.find_element(By.ID, label.get_attribute("for"))
    box.send_keys(question)
    browser.find_element(By.ID, "send").click()
    done = "#transcript .turn.assistant[data-state=done]"
    WebDriverWait(browser, 60).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, done)) == answers_before + 1)
    return browser.find_elements(By.CSS_SELECTOR, done)[-1].find_element(By.CSS_SELECTOR, ".text").text


def test_staff_chat_in_the_browser_streams_answers_and_shows_tools(
    browser, screenshots, slow_server_url, staff_user, demo_bank
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    log_in(browser, slow_server_url)
    assert browser.current_url == f"{slow_server_url}/"
    Select(browser.find_element(By.ID, "speak-as")).select_by_visible_text("Ana Lopez (+14155550101)")
    conversation_id = browser.find_element(By.ID, "conversation-id").text
    browser.execute_script(WATCH_TRANSCRIPT)

    loans = ask(browser, "What loan options are available?", answers_before=0)
    card = ask(browser, "What's my credit card balance?", answers_before=1)
    browser.save_screenshot(str(screenshots / "chat-page.png"))

    assert "Personal Loan" in loans and "Auto Loan" in loans
    assert "4567" in card and "1,234.56" in card
    log = browser.find_element(By.CSS_SELECTOR, "[role=log]")
    assert log.find_elements(By.CSS_SELECTOR, ".turn.user")[1].text.endswith("What's my credit card balance?")
    activity = [line.text for line in log.find_elements(By.CSS_SELECTOR, ".activity")]
    assert activity == ["looking up our loan products — done", "checking your credit card — done"]
    seen = browser.execute_script("return window.seen")
    for turn, final in ((1, loans), (2, card)):
        streaming = [s for s in seen if s["turn"] == turn and s["state"] == "streaming"]
        # the tool was shown as running before any of the answer had arrived ...
        assert any(s["activity"] == ["running"] and s["length"] == 0 for s in streaming), streaming
        # ... and the answer grew on screen piece by piece
        partial = {s["length"] for s in streaming if 0 < s["length"] < len(final)}
        assert len(partial) >= 2, streaming

    browser.find_element(By.ID, "new-conversation").click()
    assert browser.find_element(By.ID, "conversation-id").text != conversation_id
    assert log.find_elements(By.CSS_SELECTOR, ".turn") == []

    transcript = admin_transcript(browser, slow_server_url, conversation_id)
    browser.save_screenshot(str(screenshots / "admin-conversation.png"))

    assert "Turn 1" in transcript and "Turn 2" in transcript
    first, second = transcript.index("What loan options are available?"), transcript.index("What's my credit card balance?")
    assert first < transcript.index("Personal Loan") < second < transcript.index("4567")
    assert "list_loan_products" in transcript and "get_credit_card_summary" in transcript


def admin_transcript(browser, url: str, conversation_id: str) -> str:
    """Search the admin's conversation list for the id the chat page showed, open the one
    conversation found and return its transcript's text. Turn logs are written off the
    request path, so the search is repeated until the conversation is there."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def search(b):
        b.get(f"{url}/admin/conversations/conversation/")
        b.find_element(By.ID, "searchbar").send_keys(conversation_id)
        b.find_element(By.CSS_SELECTOR, "#changelist-search input[type=submit]").click()
        WebDriverWait(b, 30).until(lambda b: "q=" in b.current_url)
        return b.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")

    rows = WebDriverWait(browser, 60, poll_frequency=0.5).until(search)
    assert len(rows) == 1
    rows[0].find_element(By.CSS_SELECTOR, "th a, td a").click()
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".field-transcript"))
    return browser.find_element(By.CSS_SELECTOR, ".field-transcript").text
