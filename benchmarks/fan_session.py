"""A fan at the page: profiles a film fan knows, on a real server, in headless chromium.

Serves ``main.py`` on a bundle, opens the page with each profile in its address (``?p=``, as a
shared link would), keeps a full-page screenshot of each and prints the top of the list as the
page shows it (title, match, its parts, the reason). What a person sees, kept as evidence:

    python benchmarks/fan_session.py --artifacts-dir artifacts --out docs/fan-session
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.page_driver import CHROMIUM, CHROMIUM_ARGS, REPO, serve

# movieIds of ml-latest-small (and of every MovieLens release: the ids are stable)
PROFILES = {
    "toy_story": "1:5",  # Toy Story
    "horror": "1258:5,1214:5,1997:5,1387:4",  # The Shining, Alien, The Exorcist; Jaws at 4
    "godfather_goodfellas": "858:5,1213:0.5",  # The Godfather loved, Goodfellas disliked
    # the same at the popular end (discovery 0, "&d=0"), where a dislike keeps its push too
    "godfather_goodfellas_popular": "858:5,1213:0.5&d=0",
    "bladerunner_starwars": "541:5,260:1",  # Blade Runner loved, Star Wars IV disliked
    # the fans far from the blockbusters (tests/test_discovery.py), at the default discovery
    "kubrick": "1258:5,750:5,1222:5,2730:5",  # Shining, Strangelove, Full Metal Jacket, Lyndon
    "ghibli": "5618:5,5971:5,3000:5",  # Spirited Away, Totoro, Princess Mononoke
    "family_evening": "1:5,6377:5,4306:5,68954:5",  # Toy Story, Finding Nemo, Shrek, Up
}
RESULT = re.compile(r"^(.+ · \d{4})$")  # a card's first line: title · year


def top_of_list(text: str, n: int) -> list[str]:
    """The first n results of the page's text: the title line and the two lines under it."""
    lines = text[text.find("Recommended for you") :].splitlines()
    found = [i for i, line in enumerate(lines) if RESULT.match(line.strip())]
    return [" / ".join(lines[i : i + 4]) for i in found[:n]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts-dir", type=Path, default=REPO / "artifacts")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--results", type=int, default=6)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MOVIEREC_ARTIFACTS_DIR=str(args.artifacts_dir.resolve()))
    with serve(REPO / "main.py", env) as (url, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1100})
        for name, profile in PROFILES.items():
            page.goto(f"{url}/?p={profile}")
            page.wait_for_selector("text=Recommended for you", timeout=60_000)
            page.wait_for_timeout(2_500)  # the cards settle
            page.screenshot(path=str(args.out / f"{name}.png"), full_page=True)
            print(f"== {name} (?p={profile})")
            for line in top_of_list(page.inner_text("body"), args.results):
                print("  " + line)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
