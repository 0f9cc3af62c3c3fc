"""A fan steers the page in a real browser: hides films, leans to classics; screenshots.

    python benchmarks/steering_session.py --artifacts-dir artifacts --out docs

Opens a science-fiction fan's profile (Alien, Blade Runner, The Terminator, Star Wars at 4-5
stars), presses "Not interested" on the first recommendation, moves "Classics ↔ Recent films"
one step towards the classics, and keeps a screenshot of the page (steering.png) and of the
list of hidden films (not-interested.png). Prints the list's top with years and reasons at
each step, to read beside the pictures.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.page_driver import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MAIN,
    act,
    open_settled,
    serve,
    watch_pages,
)

PROFILE = "1214:5,541:5,1240:4,260:5"  # Alien, Blade Runner, The Terminator, Star Wars
RECS = "[class*='st-key-stars_recs_']"


def cards(page, n: int = 6) -> list[str]:
    """The first n recommendation cards: title line and reason line."""
    texts = page.locator("[class*='st-key-recs_']").evaluate_all(
        "elements => elements.map(e => e.innerText)"
    )
    lines = [[x for x in t.splitlines() if x.strip()] for t in texts[:n]]
    reasons = [next((x for x in c if "MovieLens" in x), "").split(" · MovieLens")[0] for c in lines]
    return [f"{c[0]} | {reason}" for c, reason in zip(lines, reasons, strict=True)]


def first_id(page) -> int:
    name = page.locator(RECS).first.evaluate("e => e.className")
    return int(re.search(r"st-key-stars_recs_(\d+)", name).group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts-dir", type=Path, default=Path("artifacts"))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "MOVIEREC_ARTIFACTS_DIR": str(args.artifacts_dir)}
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    env.pop("TMDB_API_KEY", None)
    args.out.mkdir(parents=True, exist_ok=True)
    with serve(MAIN, env, args.out / "steering-streamlit.log") as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        watch_pages(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        open_settled(page, f"{url}/?p={PROFILE}", RECS)
        print("as opened:", *cards(page), sep="\n  ")
        hidden = first_id(page)
        button = page.locator(f".st-key-hide_recs_{hidden} [data-testid^=stBaseButton]:visible")
        act(page, button.click, absent=f".st-key-stars_recs_{hidden}")
        print(f"after Not interested on {hidden}:", *cards(page), sep="\n  ")
        slider = page.locator(".st-key-recency input[type='range']")
        act(page, lambda: (slider.focus(), page.keyboard.press("ArrowLeft")))
        print("leaning to older films:", *cards(page), sep="\n  ")
        page.mouse.move(0, 0)
        page.screenshot(path=str(args.out / "steering.png"))
        shown = page.locator(".st-key-show_hidden [data-testid^=stBaseButton]:visible")
        act(page, shown.click, ".st-key-unhide_" + str(hidden))
        page.screenshot(path=str(args.out / "not-interested.png"))
        print(f"address: {page.url}")
        browser.close()
    (args.out / "steering-streamlit.log").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
