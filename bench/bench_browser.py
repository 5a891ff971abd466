"""First visits in a real browser, on fresh servers: how long a learner waits for each page.

For each language, on a fresh server: the home page, then each page by a click in the sidebar (a
first visit), then each page again (a warm switch); and each page by a direct link, each on a
fresh server of its own. Every visit is timed from the click (or `goto`) to
- "heading_s": the page's title and its first control are on screen;
- "results_s": its default results are drawn (RESULTS below: charts that rendered, metrics,
  images), with no skeleton and no progress bar left in the page;
- "settled_s": the script has also finished (Streamlit's script state back to notRunning).
Targets (issue #7): heading within 1 s, results within 2 s, a warm switch under 0.5 s.

Run by hand (never by pytest): python bench/bench_browser.py [--entry app.py] [--port 8631]
[--wait SECONDS after the health check before the first visit] [--after-warmup: wait for the
server's warm-up to finish first (serve.py)]. Needs Debian's chromium.
Writes bench/results/browser-<entry>.json and prints it.
"""

from __future__ import annotations

import argparse
import os
import re
import time

from common import chromium, need_chromium, save, served

from ui.locales import en, zh

STRINGS = {"en": en.STRINGS, "zh": zh.STRINGS}
PAGES = ("activations", "regression", "classification")
TITLE = {"home": "home.title", "activations": "act.title", "regression": "reg.title", "classification": "cls.title"}
# What each page draws by default: visible charts that rendered, metrics, images (in order)
RESULTS = {"home": (0, 0, 0), "activations": (7, 5, 0), "regression": (3, 1, 0), "classification": (1, 0, 20)}

_LIVE = """(sel) => [...document.querySelectorAll('[data-testid="stMain"] ' + sel)]
    .filter(e => !e.closest('[data-stale="true"]') && e.offsetParent !== null)"""
HEADING = f"""([title, controls]) => {{
    const live = {_LIVE};
    return live('h1').some(h => h.textContent.trim().startsWith(title))
        && (!controls || live('[data-testid="stWidgetLabel"]').length > 0);
}}"""
RESULTS_DRAWN = f"""([charts, metrics, images]) => {{
    const live = {_LIVE};
    if (document.querySelector('[data-testid="stSkeleton"]')) return false;
    if (live('[data-testid="stProgress"], [role="progressbar"]').length) return false;
    const drawn = live('[data-testid="stVegaLiteChart"]').filter(c => c.querySelector('canvas, svg')).length;
    return drawn >= charts && live('[data-testid="stMetric"]').length >= metrics
        && live('[data-testid="stImage"]').length >= images;
}}"""
SETTLED = """() => document.querySelector('[data-test-script-state="notRunning"]') !== null
    && !document.querySelector('[data-testid="stSkeleton"]')"""


def timed(page, name: str, lang: str, act) -> dict:
    """Run `act` (a click or a goto), then time the heading, the results and the settled page."""
    t0 = time.perf_counter()
    act()
    page.wait_for_function(HEADING, arg=[STRINGS[lang][TITLE[name]], name != "home"], timeout=120_000, polling=20)
    out = {"heading_s": time.perf_counter() - t0}
    page.wait_for_function(RESULTS_DRAWN, arg=list(RESULTS[name]), timeout=120_000, polling=20)
    out["results_s"] = time.perf_counter() - t0
    page.wait_for_function(SETTLED, timeout=120_000, polling=20)
    out["settled_s"] = time.perf_counter() - t0
    errors = page.locator('[data-testid="stException"]').count()
    if errors:
        out["exceptions"] = errors
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def sidebar_link(page, lang: str, name: str):
    return page.locator('[data-testid="stSidebarNav"] a').filter(has_text=STRINGS[lang][f"nav.{name}"]).first


def wait_to_visit(args, log) -> float | None:
    """Sleep --wait seconds; with --after-warmup, until the server has warmed up (its seconds)."""
    time.sleep(args.wait)
    deadline = time.monotonic() + 180
    while args.after_warmup and time.monotonic() < deadline:
        found = re.search(r"warm-up finished in ([\d.]+) s", log.read_text())
        if found:
            return float(found.group(1))
        time.sleep(0.2)
    return None


def through_the_sidebar(browser, args, lang: str) -> dict:
    with served(args.entry, args.port) as (url, _, log):
        warmed = wait_to_visit(args, log)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        out = {"warm_up_s": warmed, "home": timed(page, "home", lang, lambda: page.goto(f"{url}/home?lang={lang}"))}
        for round_ in ("first", "warm"):
            for name in PAGES:
                out[f"{name}_{round_}"] = timed(page, name, lang, sidebar_link(page, lang, name).click)
        page.context.close()
    return out


def by_direct_link(browser, args, lang: str, name: str) -> dict:
    with served(args.entry, args.port) as (url, _, log):
        warmed = wait_to_visit(args, log)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        out = {**timed(page, name, lang, lambda: page.goto(f"{url}/{name}?lang={lang}")), "warm_up_s": warmed}
        page.context.close()
    return out


def main() -> None:
    need_chromium()
    parser = argparse.ArgumentParser()
    parser.add_argument("--entry", default="serve.py", help="the file `streamlit run` serves (serve.py or app.py)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--wait", type=float, default=0.0, help="seconds between the health check and the visit")
    parser.add_argument("--after-warmup", action="store_true", help="visit once the server has warmed up")
    parser.add_argument("--langs", default="en,zh")
    args = parser.parse_args()
    results = {"entry": args.entry, "wait_s": args.wait, "after_warmup": args.after_warmup, "cores": os.cpu_count(), "load_average": os.getloadavg()}
    with chromium() as browser:
        for lang in args.langs.split(","):
            results[f"sidebar_{lang}"] = through_the_sidebar(browser, args, lang)
            for name in PAGES:
                results[f"link_{lang}_{name}"] = by_direct_link(browser, args, lang, name)
    visits = [v for k, group in results.items() if k.startswith(("sidebar_", "link_"))
              for v in (group.values() if k.startswith("sidebar_") else [group]) if isinstance(v, dict)]
    warm = [v for k, group in results.items() if k.startswith("sidebar_")
            for name, v in group.items() if name.endswith("_warm")]
    results["worst"] = {"heading_s": max(v["heading_s"] for v in visits),
                        "results_s": max(v["results_s"] for v in visits),
                        "warm_switch_results_s": max(v["results_s"] for v in warm)}
    results["load_average_after"] = os.getloadavg()
    results["ok"] = (results["worst"]["heading_s"] <= 1.0 and results["worst"]["results_s"] <= 2.0
                     and results["worst"]["warm_switch_results_s"] <= 0.5)
    save(f"browser-{args.entry.removesuffix('.py')}{'-warmed' if args.after_warmup else ''}", results)


if __name__ == "__main__":
    main()
