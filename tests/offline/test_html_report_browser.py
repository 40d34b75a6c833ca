"""The HTML execution graph in a real browser: Debian's chromium, headless, driven by playwright.

`make check` installs chromium first (tools/ensure_chromium.sh); without it these tests skip and say why.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.offline.conftest import PicturesRun
from tools.headless_chromium import CHROMIUM, chromium

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason=f"no {CHROMIUM}: run tools/ensure_chromium.sh (make check does) to install it"
)

SUCCEEDED_FILL = "rgb(213, 245, 213)"
CAUGHT_FILL = "rgb(253, 233, 196)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any, pictures_run: PicturesRun) -> Iterator[Any]:
    """The review run's page, opened from a file:// URL; fails the test on any script error or network request."""
    opened = browser.new_page(viewport={"width": 1400, "height": 900})
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    opened.on(
        "request",
        lambda request: None if request.url.startswith("file:") else problems.append(f"request: {request.url}"),
    )
    opened.goto(pictures_run.html.as_uri())
    yield opened
    opened.close()
    assert problems == []


def _state(page: Any, name: str) -> Any:
    return page.locator(f'g.state[data-state="{name}"]')


def _fill(page: Any, name: str) -> str:
    return str(_state(page, name).locator("rect.shape").evaluate("rect => getComputedStyle(rect).fill"))


def test_the_page_shows_every_state_coloured_by_what_it_did(page: Any) -> None:
    # Given the review run's page
    # Then every state of the machine is drawn, Start and End included
    for name in ["Start", "Prepare Review", "Review Each Answer", "Check Answer", "Mark Accepted", "Mark Rejected",
                 "Notify Reviewer", "Any Rejected", "Review Passed", "Review Needs Work", "End"]:  # fmt: skip
        assert _state(page, name).count() == 1, name
    # And the path taken is coloured: succeeded states green, the Choice branch not taken grey and dashed
    assert _state(page, "Prepare Review").get_attribute("data-status") == "succeeded"
    assert _fill(page, "Prepare Review") == SUCCEEDED_FILL
    assert _state(page, "Review Passed").get_attribute("data-status") == "not-taken"
    assert page.locator("text=SUCCEEDED").first.is_visible()
    # And the edge out of the Choice is labelled with its condition (in full on hover)
    label = page.locator("text.edge-label", has_text='$.notice == "all')
    assert label.count() == 1
    assert label.locator("title").text_content() == '$.notice == "all accepted"'


def test_clicking_a_state_shows_its_input_and_output(page: Any) -> None:
    # Given the page, When the first iteration's Check Answer is clicked
    _state(page, "Check Answer").click()
    details = page.locator("#details")
    # Then the panel shows its name, status, time and its input and output
    assert details.locator("h2").inner_text() == "Check Answer"
    assert "succeeded" in details.inner_text()
    assert '"answer": "good answer"' in details.locator("pre.input").inner_text()
    assert '"accepted": true' in details.locator("pre.output").inner_text()


def test_each_map_iteration_is_reachable(page: Any) -> None:
    # Given the page, When the Map's second iteration (the rejected answer) is picked
    picker = page.locator('select.iteration[data-map="Review Each Answer"]')
    assert picker.locator("option").all_inner_texts() == [
        "iteration 0 (succeeded)",
        "iteration 1 (succeeded)",
        "iteration 2 (succeeded)",
    ]
    picker.select_option(label="iteration 1 (succeeded)")
    # Then its states take that iteration's colours: the task was caught, the Catch's target ran
    assert _state(page, "Check Answer").get_attribute("data-status") == "caught"
    assert _fill(page, "Check Answer") == CAUGHT_FILL
    assert _state(page, "Mark Rejected").get_attribute("data-status") == "succeeded"
    assert _state(page, "Mark Accepted").get_attribute("data-status") == "not-taken"
    # And its panel shows the error and cause
    _state(page, "Check Answer").click()
    details = page.locator("#details")
    assert "AnswerRejectedError" in details.inner_text()
    assert "the answer contradicts the question" in details.locator("pre.cause").inner_text()


def test_the_nested_execution_is_one_click_away(page: Any) -> None:
    # Given the page, When the state that started the nested execution is clicked and its link followed
    _state(page, "Notify Reviewer").click()
    link = page.locator("#details a.execution-link")
    assert link.count() == 1
    link.click()
    # Then the nested execution's own graph is shown, with what it did
    assert page.locator("#title").inner_text().startswith("NotifyStateMachine / ")
    assert _state(page, "Compose Notice").get_attribute("data-status") == "succeeded"
    _state(page, "Compose Notice").click()
    assert '"notice": "reviewed"' in page.locator("#details pre.output").inner_text()
    # And the execution selector leads back
    page.locator("#execution").select_option(index=0)
    assert page.locator("#title").inner_text() == "ReviewStateMachine"
