"""A failed deploy is not an outage: a real `streamlit run` keeps serving the bundle it loaded
when CURRENT is pointed at a broken one, says so in one line, and loads the next good one.

CURRENT is broken the ways an operator or an attacker would: a copy with a flipped byte, a copy
with a file missing, `../etc`, and a symbolic link to a bundle. Each time a fresh visitor's page
(a new session) must still show the recommendations the good bundle gives, with no traceback.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from benchmarks.page_driver import CHROMIUM
from recommender import TrainingConfig, train
from recommender.artifacts import point_current_at
from tests.test_browser import Browser, browser, listed, open_settled, streamlit_run

__all__ = ["browser"]  # the fixture: a chromium whose pages may talk to the app only

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's /usr/bin/chromium")
expect = sync_api.expect
PROFILE = "?p=858:5,2571:4,60069"  # The Godfather, The Matrix, WALL·E
STILL_SERVED = "still serves the previous one"


def copy_of(artifacts: Path, good: str, name: str) -> Path:
    copy = artifacts / name
    shutil.copytree(artifacts / good, copy)
    return copy


def flip_a_byte(folder: Path) -> None:
    path = folder / "personal.item_factors.npy"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # same size: only the checksum can tell
    path.write_bytes(bytes(data))


def recommendations(browser: Browser, url: str) -> tuple[list[int], Any]:
    page = browser.page()
    open_settled(page, url + PROFILE, "[class*='st-key-stars_recs_']")
    assert not page.get_by_test_id("stException").count()
    return listed(page, "recs"), page


def test_a_broken_current_keeps_the_served_bundle(
    browser: Browser, data_dir: Path, tmp_path: Path
) -> None:
    artifacts = tmp_path / "artifacts"
    train(data_dir, artifacts, TrainingConfig())
    good = (artifacts / "CURRENT").read_text().strip()
    with streamlit_run(artifacts, tmp_path / "streamlit.log") as url:
        before, page = recommendations(browser, url)
        assert len(before) == 10
        assert not page.get_by_text(STILL_SERVED).count()

        flipped = copy_of(artifacts, good, "bundle-flipped")
        flip_a_byte(flipped)
        missing = copy_of(artifacts, good, "bundle-missing")
        (missing / "content.idf.npy").unlink()
        (artifacts / "bundle-linked").symlink_to(artifacts / good, target_is_directory=True)
        broken = [
            ("bundle-flipped", "personal.item_factors.npy is corrupted"),
            ("bundle-missing", "content.idf.npy is missing"),
            ("../etc", "not the name of a bundle directory"),
            ("bundle-linked", "is not a plain directory"),
        ]
        for pointer, why in broken:
            if pointer.startswith(".."):
                (artifacts / "CURRENT").write_text(pointer + "\n")
            else:
                point_current_at(artifacts, pointer)
            shown, page = recommendations(browser, url)
            assert shown == before, pointer  # the good bundle's recommendations, unchanged
            warning = page.get_by_test_id("stAlert").filter(has_text=STILL_SERVED)
            expect(warning).to_contain_text(why)
            expect(warning).to_contain_text(good)  # the bundle still served, by name
            shown, page = recommendations(browser, url)  # and again, without a new attempt
            assert shown == before
            expect(page.get_by_text(STILL_SERVED)).to_be_visible()

        point_current_at(artifacts, good)  # CURRENT mended: served as before, no warning
        shown, page = recommendations(browser, url)
        assert shown == before and not page.get_by_text(STILL_SERVED).count()
        (artifacts / "bundle-linked").unlink()
        train(data_dir, artifacts, TrainingConfig(calibration=0.0))  # a new good one is loaded
        shown, page = recommendations(browser, url)
        assert len(shown) == 10 and not page.get_by_text(STILL_SERVED).count()
        newest = (artifacts / "CURRENT").read_text().strip()
        assert newest != good and os.path.isdir(artifacts / newest)
