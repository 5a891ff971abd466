"""Real browser: the Schedulers page trains the digits MLP with two schedules side by side, in the
background, and draws their losses above their learning rates (English and Chinese)."""

from __future__ import annotations

import pytest

from test_browser import browser, no_exception, page, server, settle, shot  # noqa: F401 - pytest fixtures

TWO = "section=training&train_schedules=cosine&train_schedules=warmup_cosine&train_epochs=4"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_training_with_two_schedules(server, page, lang):  # noqa: F811 - fixtures
    from ui.locales import en, zh

    strings = {"en": en.STRINGS, "zh": zh.STRINGS}[lang]
    page.goto(f"{server}/schedulers?lang={lang}&{TWO}")
    settle(page)
    page.get_by_role("heading", name=strings["sch.training"]).wait_for()
    table = page.locator('[data-testid="stTable"]').first
    table.wait_for(timeout=120_000)  # trained in the background; the page shows it when done
    settle(page)
    no_exception(page)
    for name in ("cosine", "warmup_cosine"):
        assert table.get_by_text(strings[f"choice.{name}"], exact=True).count() == 1
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    assert chart.locator("canvas, svg").count() > 0
    page.get_by_text(strings["runs.title"].format(count=2)).first.wait_for()
    shot(page, f"schedulers-training-{lang}")
