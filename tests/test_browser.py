"""Real browser: `streamlit run app.py` on a free loopback port, every page in headless Chromium.

Needs Debian's `chromium` and the `playwright` package (never `playwright install`). Without
chromium these tests skip with a hint, except under CI=true, where they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _need(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser test cannot run under CI: {reason}")
    pytest.skip(f"{reason}; to enable: sudo apt-get install chromium (Debian/Ubuntu) and make test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("streamlit did not answer its health check")


@contextlib.contextmanager
def streamlit_server(entry: str = "app.py", log: Path | None = None):
    """`streamlit run <entry>` in its own process on a free loopback port; yields its URL.
    Its output goes to `log` when given (and is dropped otherwise); the process is stopped after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (log.open("w") if log else contextlib.nullcontext(subprocess.DEVNULL)) as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", entry, "--server.headless", "true", "--server.port",
             str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        _need("chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("the playwright package is not installed")
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as err:  # noqa: BLE001 - any launch failure means the same to the user
            _need(f"chromium did not start ({err})")
        yield b
        b.close()


def settle(page, timeout: float = 90_000) -> None:
    """Wait as Streamlit's own browser tests do: connected, script finished, no skeleton left."""
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=timeout)
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_function('!document.querySelector(\'[data-testid="stSkeleton"]\')', timeout=timeout)


def no_exception(page) -> None:
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 4000})
    yield context.new_page()
    context.close()


def test_home_then_activations_in_both_languages(server, page):
    page.goto(server)
    settle(page)
    assert page.get_by_role("heading", name="NN Playground").is_visible()
    no_exception(page)
    shot(page, "home-en")

    page.get_by_role("link", name="Activations").first.click()
    settle(page)
    page.get_by_role("heading", name="Activation functions").wait_for()
    no_exception(page)
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(8).wait_for(timeout=60_000)
    # f, f' and its saturation strip, softmax, two regions, the losses, the hidden view, the runs overlay
    assert charts.count() == 9
    for i in range(charts.count()):  # each chart drew something (Vega renders to canvas or svg)
        assert charts.nth(i).locator("canvas, svg").count() > 0
    shot(page, "activations-en")

    page.get_by_text("中文").click()
    settle(page)
    page.get_by_role("heading", name="激活函数").wait_for()
    no_exception(page)
    assert "lang=zh" in page.url
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 9
    shot(page, "activations-zh")


def test_a_shared_link_restores_the_experiment(server, page):
    page.goto(f"{server}/activations?lang=zh&dataset=moons&temperature=2&lr=banana")
    settle(page)
    page.get_by_role("heading", name="激活函数").wait_for()
    no_exception(page)
    notice = page.locator('[data-testid="stAlert"]').first.inner_text()
    assert "lr:'banana'不是数字" in notice.replace(" ", ""), notice  # the notice in the page's language
    assert "dataset=moons" in page.url and "temperature=2" in page.url and "banana" not in page.url
    page.goto(f"{server}/home?lang=zh")
    settle(page)
    assert page.get_by_role("heading", name="神经网络游乐场").is_visible()
    no_exception(page)
    shot(page, "home-zh")


def test_regression_page_tasks_and_a_csv_upload(server, page, tmp_path):
    page.goto(f"{server}/regression")
    settle(page)
    page.get_by_role("heading", name="One variable, two ways").wait_for()
    no_exception(page)
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(3).wait_for(timeout=60_000)
    assert charts.count() == 4  # the line, the loss surface, the losses, the runs overlay
    shot(page, "regression-linear-en")

    page.goto(f"{server}/regression?task=polynomial&lang=zh&degree=12")
    settle(page)
    page.get_by_role("heading", name="多项式回归").wait_for()
    no_exception(page)
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 2

    from ui.own_data import EXAMPLE

    csv = tmp_path / "houses.csv"
    csv.write_text(EXAMPLE)
    page.locator('[class*="st-key-csv_file"] [data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
    page.get_by_text("R²").wait_for(timeout=60_000)
    settle(page)
    no_exception(page)
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 3
    shot(page, "regression-polynomial-zh")


def test_classification_trains_draws_and_round_trips_a_checkpoint(server, page, tmp_path):
    page.goto(f"{server}/classification?epochs=1")
    settle(page)
    page.get_by_role("heading", name="Classification").wait_for()
    no_exception(page)
    page.get_by_role("tab", name="Train").click()
    page.get_by_role("button", name="Train 1 epoch", exact=True).click()
    page.get_by_text("Validation accuracy").first.wait_for(timeout=90_000)
    page.get_by_role("button", name="Continue 1 more epoch", exact=True).wait_for(timeout=90_000)
    settle(page)
    no_exception(page)
    shot(page, "classification-trained")

    page.get_by_role("tab", name="Evaluate").click()
    confusion = page.locator('[data-testid="stVegaLiteChart"]:visible').nth(1).locator("canvas, svg").first
    confusion.wait_for()
    box = confusion.bounding_box()  # the plot fills the top right; the x axis takes ~70 px below it
    page.mouse.click(box["x"] + box["width"] - 12, box["y"] + box["height"] - 70 - 12)  # the cell (9, 9)
    page.get_by_text("Validation images of class 9 predicted as 9").wait_for(timeout=30_000)
    settle(page)
    no_exception(page)
    shot(page, "classification-confusion-click")

    page.get_by_role("tab", name="Draw a digit").click()
    canvas = page.locator("canvas.nnp-canvas")
    canvas.wait_for()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    for i in range(1, 11):  # a vertical stroke: a "1"
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * (0.2 + 0.06 * i))
    page.mouse.up()
    page.get_by_text("The model's guess").wait_for(timeout=30_000)
    settle(page)
    no_exception(page)
    guess = page.locator('[data-testid="stMetric"]').filter(has_text="The model's guess")
    assert guess.locator('[data-testid="stMetricValue"]').inner_text() == "1"
    shot(page, "classification-drawn")

    page.get_by_role("tab", name="Model files").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="checkpoint (.pt)").click()
    saved = tmp_path / "checkpoint.pt"
    download.value.save_as(saved)
    assert saved.stat().st_size > 1000
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').last.set_input_files(str(saved))
    page.get_by_text("Loaded a checkpoint (epochs trained so far: 1).").wait_for(timeout=30_000)
    settle(page)
    no_exception(page)


HOSTILE_LINK = ("seed=%5BSession%20expired%2C%20log%20in%20again%5D(https%3A%2F%2Fevil.example%2Flogin)"
                "&lr=!%5Bx%5D(https%3A%2F%2Fevil.example%2Fpixel.png)&dataset=__import__"
                "&%3Ca%20href%3Dhttps%3A%2F%2Fevil.example%3Ex%3C%2Fa%3E=1")


@pytest.mark.parametrize("path", ["", "activations", "regression", "classification"])
def test_a_crafted_link_shows_its_values_as_text(server, page, path):
    page.goto(f"{server}/{path}?{HOSTILE_LINK}")
    settle(page)
    no_exception(page)
    notice = page.locator('[data-testid="stAlert"]').first
    assert "evil.example/login" in notice.inner_text()  # shown, as text
    for selector in ("a", "img", "iframe", "source"):  # and nothing points at the crafted host
        for element in page.locator(selector).all():
            for attribute in ("href", "src", "srcset"):
                assert "evil.example" not in (element.get_attribute(attribute) or ""), (selector, attribute)
    assert page.locator("b", has_text="import").count() == 0 and page.locator("strong", has_text="import").count() == 0
    if path == "activations":
        shot(page, "crafted-link")


def _label(key: str) -> str:
    from ui.locales import en

    return en.STRINGS[key]


def _set_slider(page, label: str, target: float) -> None:
    """Move a slider with the keyboard, one step a press (each reruns the page), until it shows `target`."""
    thumb = page.locator('[data-testid="stSlider"]', has_text=label).first.locator('input[type="range"]')
    for _ in range(40):
        if float(thumb.input_value()) == target:
            return
        thumb.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)
        settle(page)
    raise AssertionError(f"the slider {label!r} did not reach {target}")


def _set_number(page, label: str, value: str) -> None:
    """Type a number and press Enter until the page has taken it (a rerun still under way can drop it)."""
    box = page.locator('[data-testid="stNumberInput"]', has_text=label).first.locator("input")
    for _ in range(5):
        settle(page)
        box.fill(value)
        box.press("Enter")
        page.wait_for_timeout(500)
        settle(page)
        if float(box.input_value()) == float(value):
            return
    raise AssertionError(f"the number input {label!r} did not take {value}")


def _go(page, name: str, heading: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=name).click()
    settle(page)
    page.get_by_role("heading", name=heading).first.wait_for()
    settle(page)
    no_exception(page)


@pytest.mark.parametrize("order", ["forward", "backward"])
def test_clicking_through_every_page_keeps_each_pages_settings(server, page, order):
    """One session: settings changed on each page survive every other page, as the learner left them."""
    pages = [("Activations", "Activation functions"), ("Regression", "Regression"),
             ("Classification", "Classification"), ("Overfitting", "Overfitting"), ("Dropout", "Dropout"),
             ("Gradients", "Vanishing and exploding gradients"),
             ("Optimizers", "Optimizers: gradient descent and its variants")]
    if order == "backward":
        pages.reverse()
    page.goto(server)
    settle(page)
    expected = {}
    for name, heading in pages:
        _go(page, name, heading)
        if name == "Activations":
            _set_slider(page, _label("param.epochs"), 340)  # 300 -> 340, above Classification's maximum (30)
            _set_number(page, _label("param.lr"), "0.05")
            expected[name] = ["epochs=340", "lr=0.05"]
        elif name == "Regression":
            _set_number(page, _label("param.reg.lr"), "2")  # above Classification's maximum (1)
            _set_slider(page, _label("param.reg.n_points"), 130)
            expected[name] = ["lr=2", "n_points=130"]
        elif name == "Classification":
            page.get_by_role("tab", name="Train").click()
            _set_slider(page, _label("param.cls.epochs"), 7)
            expected[name] = ["epochs=7"]
        elif name == "Overfitting":
            _set_number(page, _label("param.ovf.lr"), "0.02")  # one more page's lr, each its own
            expected[name] = ["lr=0.02"]
        elif name == "Dropout":
            _set_number(page, _label("param.drp.lr"), "0.03")
            expected[name] = ["lr=0.03"]
        elif name == "Gradients":
            _set_number(page, _label("param.grd.lr"), "0.05")
            expected[name] = ["lr=0.05"]
        else:  # the first page of the backward walk: a number, a toggle and the slider it brings
            _set_number(page, _label("param.opt.lr_adam"), "0.05")
            page.get_by_test_id("stCheckbox").get_by_text(_label("param.opt.clip"), exact=True).click()
            settle(page)
            _set_slider(page, _label("param.opt.max_norm"), 1.2)
            expected[name] = ["lr_adam=0.05", "clip=true", "max_norm=1.2"]
        for part in expected[name]:
            assert part in page.url, (name, page.url)
    for name, heading in pages[::-1] + pages[1:]:
        _go(page, name, heading)
        alerts = " ".join(a.inner_text() for a in page.locator('[data-testid="stAlert"]').all())
        assert _label("url.notice")[:30] not in alerts, (name, alerts)  # nothing clamped or refused
        for part in expected[name]:
            assert part in page.url, (name, page.url)
        if name == "Classification":
            page.get_by_role("tab", name="Train").click()
            page.get_by_role("button", name="Train 7 epochs", exact=True).wait_for()
    shot(page, f"click-through-{order}")


def test_a_deep_link_as_the_first_request_of_a_fresh_server(browser):
    """Until st.navigation has run once in the process, Streamlit runs a pages/ file alone (its
    legacy mode): the page must still come with app.py's sidebar and the link's settings. AppTest
    never meets this (tests/conftest.py keeps it in navigation mode), and the module's shared
    server has served other pages before: so a server of its own, and this link first."""
    with streamlit_server() as url:
        context = browser.new_context(viewport={"width": 1400, "height": 2000})
        page = context.new_page()
        try:
            page.goto(f"{url}/classification?lr=0.05&lang=zh&seed=3")
            settle(page)
            page.get_by_role("heading", name="分类").wait_for()
            sidebar = page.locator('[data-testid="stSidebar"]')
            sidebar.get_by_text("当前设备").wait_for(timeout=30_000)  # drawn last, after the page
            settle(page)
            no_exception(page)
            for link in ("首页", "激活函数", "回归", "分类"):
                assert sidebar.get_by_role("link", name=link).count() == 1, link
            assert sidebar.get_by_role("radio", name="中文").is_checked()
            assert sidebar.get_by_role("spinbutton", name="随机种子").input_value() == "3"
            page.get_by_role("tab", name="训练").click()
            assert page.get_by_role("spinbutton", name="学习率").input_value() == "0.05"  # %g: its shortest form
            assert page.locator('[data-testid="stAlertContentWarning"]').count() == 0  # every value was good
            assert "lr=0.05" in page.url and "seed=3" in page.url and "lang=zh" in page.url
            shot(page, "deep-link-first-request")
        finally:
            context.close()


def test_a_picture_over_the_limit_says_its_size_in_the_page_language(server, page, tmp_path):
    """Over the widget's own cap Streamlit would refuse the file in the browser with only a red icon
    and keep the previous file's message; the page must say the file's size and the limit instead."""
    not_a_picture, photo = tmp_path / "notes.png", tmp_path / "photo.png"
    not_a_picture.write_bytes(b"not a picture")
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(3_000_000))
    page.goto(f"{server}/classification?lang=zh")
    settle(page)
    page.get_by_role("tab", name="写一个数字").click()
    upload = page.locator('[class*="st-key-cls_picture"] [data-testid="stFileUploaderDropzoneInput"]')
    upload.set_input_files(str(not_a_picture))
    page.get_by_text("这个文件不是图片").wait_for(timeout=30_000)
    upload.set_input_files(str(photo))
    page.get_by_text("这张图片有 3,000,008 字节;上限是 2,097,152 字节").wait_for(timeout=30_000)
    settle(page)
    no_exception(page)
    assert page.get_by_text("这个文件不是图片").count() == 0  # the previous file's message is gone
    assert page.locator('[data-testid="stFileChipIconError"]').count() == 0  # no red icon alone
    shot(page, "classification-picture-too-big-zh")


def test_a_guided_experiment_becomes_a_run_to_compare_and_restore(server, page):
    """Try a guided experiment, find it beside the first run, go back to the first run's settings."""
    page.goto(f"{server}/regression")
    settle(page)
    page.get_by_role("heading", name="One variable, two ways").wait_for()
    from ui.locales import en

    title = en.STRINGS["guided.regression.small_lr.title"]
    page.locator('[class*="st-key-regression-guided-small_lr"] button', has_text="Try it").click()
    page.wait_for_url("**lr=0.01**")
    settle(page)
    no_exception(page)
    assert page.locator('[data-testid="stAlert"]', has_text=title).count() == 1  # what to look for
    assert page.url.endswith("/regression?lr=0.01")  # the link holds what differs from the defaults
    lr = page.locator('[data-testid="stNumberInput"]', has_text="Learning rate").first.locator("input")
    assert float(lr.input_value()) == 0.01
    page.get_by_text("Your runs (2)").first.wait_for()
    shot(page, "regression-guided-runs")
    page.locator('[class*="st-key-regression-runs-pick"]').click()
    page.get_by_role("option", name="#1").click()
    settle(page)
    page.get_by_role("button", name="Restore its settings").click()
    page.wait_for_function("!location.search.includes('lr=')")
    settle(page)
    no_exception(page)
    assert float(lr.input_value()) == 0.1 and "lr=" not in page.url
    assert page.locator('[data-testid="stAlert"]', has_text=title).count() == 0
    page.get_by_text("Your runs (2)").first.wait_for()  # the first run shown again, not a third


def test_the_overfitting_page_runs_its_capacity_sweep(server, page):
    """The default sweep trains in the background, then shows the U-curves, the chosen network and
    its test score, in the page's language."""
    from ui.locales import zh

    page.goto(f"{server}/overfitting?lang=zh&epochs=100")
    settle(page)
    page.get_by_role("heading", name=zh.STRINGS["ovf.capacity"]).wait_for()
    page.get_by_text(zh.STRINGS["ovf.test_acc"]).first.wait_for(timeout=120_000)
    settle(page)
    no_exception(page)
    metrics = page.locator('[data-testid="stMetric"]')
    assert metrics.count() >= 4
    test_accuracy = metrics.filter(has_text=zh.STRINGS["ovf.test_acc"]).locator('[data-testid="stMetricValue"]')
    assert test_accuracy.inner_text().endswith("%")
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    assert charts.count() >= 4  # the split, the width and depth sweeps, the chosen network's curves
    for i in range(charts.count()):
        assert charts.nth(i).locator("canvas, svg").count() > 0
    shot(page, "overfitting-capacity-zh")


def test_the_dropout_page_steps_through_masks_and_compares_two_rates(server, page):
    """The masks change pass by pass (one click, then playing by themselves); a comparison of two
    rates trains in the background and draws its curves, regions and runs, in Chinese."""
    from ui.locales import zh

    page.goto(f"{server}/dropout?section=masks&passes=5")
    settle(page)
    page.get_by_text("Pass 1:").wait_for()
    page.get_by_role("button", name="Next pass").click()
    page.get_by_text("Pass 2:").wait_for()
    play = page.get_by_test_id("stCheckbox").get_by_text("Play")
    play.click()  # the toggle: one pass further every second
    page.get_by_text("Pass 4:").wait_for(timeout=20_000)
    play.click()
    settle(page)
    no_exception(page)
    units = page.locator('[data-testid="stVegaLiteChart"]').first.locator("canvas, svg")
    assert units.count() > 0
    shot(page, "dropout-masks")

    page.goto(f"{server}/dropout?lang=zh&rates=0%2C0.5&epochs=100")
    settle(page)
    page.get_by_role("heading", name=zh.STRINGS["drp.compare_rates"]).wait_for()
    page.get_by_text(zh.STRINGS["drp.chart.val"]).wait_for(timeout=120_000)
    settle(page)
    no_exception(page)
    table = page.locator('[data-testid="stDataFrame"]').first
    assert table.count() == 1
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    assert charts.count() >= 6  # three sets of curves, two decision regions, the runs overlay
    page.get_by_text(zh.STRINGS["runs.title"].format(count=2)).first.wait_for()
    shot(page, "dropout-compare-zh")


def test_the_gradients_page_steps_backpropagation_by_hand_to_its_end(server, page):
    """Every click shows one more value: the forward pass, the backward pass to its last gradient,
    then the update; at the end every hand-computed gradient stands beside autograd's."""
    from ui.locales import en

    page.goto(f"{server}/gradients?section=by_hand&activation=sigmoid")
    settle(page)
    page.get_by_role("heading", name=en.STRINGS["grd.by_hand"]).wait_for()
    following = page.get_by_role("button", name=en.STRINGS["grd.hand.next"])
    for shown in range(1, 30):
        following.click()
        phase = "forward pass" if shown <= 6 else "backward pass" if shown <= 20 else "the update"
        page.get_by_text(f"Step {shown} of 29: {phase}.").wait_for()
        if shown == 20:  # the backward pass at its end: every weight and node carries its gradient in the graph
            graph = page.locator('[data-testid="stGraphVizChart"] svg text')
            page.wait_for_function("document.querySelectorAll('[data-testid=\"stGraphVizChart\"] svg text').length > 0")
            texts = graph.evaluate_all("els => els.map(e => e.textContent)")
            assert sum("∂L/∂" in text for text in texts) == 9  # the six edges (w11..w22, v1, v2) and the nodes o, h1, h2
            shot(page, "gradients-by-hand-backward")
    settle(page)
    no_exception(page)
    page.get_by_text(en.STRINGS["grd.hand.agree"][:40]).wait_for()
    assert following.is_disabled()
    assert page.locator('[data-testid="stGraphVizChart"] svg').count() == 1
    shot(page, "gradients-by-hand-end")


def test_the_gradients_page_reports_an_explosion_and_compares_a_fix(server, page):
    """A guided experiment overflows on purpose and the page says so (no exception); the fixes train
    the broken and the clipped network side by side in the background, in Chinese."""
    from ui.locales import en, zh

    page.goto(f"{server}/gradients")
    settle(page)
    page.get_by_role("heading", name=en.STRINGS["grd.title"]).wait_for()
    page.locator('[class*="st-key-gradients-guided-exploding"] button', has_text=en.STRINGS["guided.load"]).click()
    page.wait_for_url("**init=large**")
    page.get_by_text(en.STRINGS["grd.diverged"].format(step=1)).wait_for(timeout=120_000)
    settle(page)
    no_exception(page)
    assert "depth=50" in page.url and "init=large" in page.url
    assert page.get_by_text("Overflow:").count() == 1
    shot(page, "gradients-exploding")

    page.goto(f"{server}/gradients?lang=zh&section=fixes&activation=relu&init=large&fix_relu=false&fix_init=false"
              "&clip=norm&lr=0.01&epochs=50")
    settle(page)
    page.get_by_role("heading", name=zh.STRINGS["grd.fixes"]).wait_for()
    page.get_by_text(zh.STRINGS["grd.chart.clipping"].format(threshold="1")).wait_for(timeout=120_000)
    settle(page)
    no_exception(page)
    assert page.get_by_text(zh.STRINGS["grd.diverged"].format(step=2)).count() == 1  # the broken one only
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    assert charts.count() >= 4  # the fixed loss, the norms of both, before/after clipping, the runs overlay
    for i in range(charts.count()):
        assert charts.nth(i).locator("canvas, svg").count() > 0
    page.get_by_text(zh.STRINGS["runs.title"].format(count=2)).first.wait_for()
    shot(page, "gradients-fixes-zh")


def test_the_optimizers_page_races_several_optimizers_and_reports_a_divergence(server, page):
    """A guided experiment throws GD off the plot on purpose: the page says so and Adam finishes; then
    all eight optimizers race on the saddle in Chinese, every chart drawn."""
    from ui.locales import en, zh

    page.goto(f"{server}/optimizers")
    settle(page)
    page.get_by_role("heading", name=en.STRINGS["opt.title"]).wait_for()
    page.locator('[class*="st-key-optimizers-guided-too_fast"] button', has_text=en.STRINGS["guided.load"]).click()
    page.wait_for_url("**lr_gd=0.01**")
    page.get_by_text(en.STRINGS["opt.diverged"].format(names=en.STRINGS["choice.gd"])).wait_for(timeout=60_000)
    settle(page)
    no_exception(page)
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for()
    shot(page, "optimizers-too-fast")

    names = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam", "adamw"]
    page.goto(f"{server}/optimizers?lang=zh&landscape=saddle&start=-1.8,0.001&lr_gd=0.01&"
              + "&".join(f"optimizers={n}" for n in names))
    settle(page)
    page.get_by_role("heading", name=zh.STRINGS["opt.race"]).wait_for()
    no_exception(page)
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.first.wait_for()
    assert charts.count() >= 4  # the map, loss, step size and the run history's overlay
    for i in range(charts.count()):
        assert charts.nth(i).locator("canvas, svg").count() > 0
    page.get_by_text(zh.STRINGS["runs.title"].format(count=8)).first.wait_for()
    assert page.get_by_text(zh.STRINGS["opt.diverged"][4:12]).count() == 0  # nobody diverges at the presets here
    shot(page, "optimizers-saddle-zh")


def test_a_click_on_the_race_map_chooses_the_start_point(server, page):
    """The map's point selection: a click right of the middle of Rosenbrock's map (x from -2 to 2)
    starts every optimizer there; the start box and the link say so."""
    page.goto(f"{server}/optimizers")
    settle(page)
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.wait_for()
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    page.wait_for_url("**start=**")
    settle(page)
    no_exception(page)
    x, y = (float(v) for v in page.locator('[data-testid="stTextInput"] input').first.input_value().split(","))
    assert 0 < x < 2 and -1 < y < 3 and (x, y) != (-1.5, 2.0)


def test_the_schedulers_page_overlays_two_schedules(server, page):
    """One schedule from the link, a second added in the multiselect: both drawn on one chart, both in
    the table and the link; then where scheduler.step() goes, in Chinese, with torch's warning."""
    from ui.locales import en, zh

    page.goto(f"{server}/schedulers?schedulers=step")
    settle(page)
    page.get_by_role("heading", name=en.STRINGS["sch.schedules"]).wait_for()
    no_exception(page)
    picker = page.locator('[data-testid="stMultiSelect"]', has_text=en.STRINGS["param.sch.schedulers"]).first
    picker.wait_for(timeout=120_000)  # the first visit to a page imports torch
    picker.locator("input").first.click()
    page.get_by_role("option", name=en.STRINGS["choice.cosine"], exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_url("**schedulers=cosine**")
    settle(page)
    no_exception(page)
    rows = page.locator('[data-testid="stTable"] tbody tr')
    rows.nth(1).wait_for()
    assert rows.count() == 2
    assert [rows.nth(i).locator("td, th").first.inner_text() for i in range(2)] == [
        en.STRINGS["choice.step"], en.STRINGS["choice.cosine"]]
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    assert chart.locator("canvas, svg").count() > 0
    assert "schedulers=step" in page.url
    shot(page, "schedulers-overlay-en")

    page.goto(f"{server}/schedulers?lang=zh&section=placement&placement_scheduler=exponential")
    settle(page)
    page.get_by_role("heading", name=zh.STRINGS["sch.placement"]).wait_for()
    no_exception(page)
    page.get_by_text(zh.STRINGS["sch.placement.warned"]).wait_for()
    assert page.locator('[data-testid="stVegaLiteChart"]').first.locator("canvas, svg").count() > 0
    shot(page, "schedulers-placement-zh")
