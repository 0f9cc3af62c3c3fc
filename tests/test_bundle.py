"""The bundle: atomic, checked on load, no pickles."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from recommender import BundleError, Recommender, train
from recommender.bundle import CURRENT, MANIFEST, SCHEMA_VERSION, bundle_dir


def test_manifest_records_what_built_the_bundle(artifacts, tiny_data):
    manifest = json.loads((bundle_dir(artifacts) / MANIFEST).read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION == 4  # 4: the compact arrays
    folder = bundle_dir(artifacts)
    for name, entry in manifest["files"].items():
        if name.endswith(".npy"):
            array = np.load(folder / name, allow_pickle=False)
            assert (entry["dtype"], entry["shape"]) == (array.dtype.str, list(array.shape))
    assert {"numpy", "pandas", "scipy", "scikit-learn"} <= set(manifest["libraries"])
    inputs = {entry["file"]: entry for entry in manifest["inputs"]}
    assert inputs["ratings.csv"]["bytes"] == (tiny_data / "ratings.csv").stat().st_size
    assert len(inputs["movies.csv"]["sha256"]) == 64
    assert manifest["counts"]["ratings"] == 12
    assert set(manifest["timings_seconds"]) >= {"load", "popularity", "content"}
    assert manifest["parameters"]["factors"] == 3


def test_bundle_holds_only_formats_that_cannot_run_code(artifacts):
    folder = bundle_dir(artifacts)
    suffixes = {path.suffix for path in folder.iterdir()}
    assert suffixes <= {".npy", ".json", ".parquet"}
    for path in folder.glob("*.npy"):
        np.load(path, allow_pickle=False)  # raises if any array needed pickle


def test_missing_bundle_file_checksum_and_schema_are_one_error_type(artifacts, tmp_path):
    with pytest.raises(BundleError, match="no model bundle in .*train one with"):
        Recommender.load(tmp_path / "empty")
    folder = bundle_dir(artifacts)
    spare = tmp_path / "spare"
    shutil.copytree(folder, spare)

    (folder / "personal.item_factors.npy").unlink()
    with pytest.raises(BundleError, match="personal.item_factors.npy is missing"):
        Recommender.load(artifacts)
    shutil.copy(spare / "personal.item_factors.npy", folder / "personal.item_factors.npy")

    Recommender.load(artifacts)  # checked once: a later change must still be caught
    with (folder / "content.data.npy").open("r+b") as handle:
        handle.seek(-4, 2)
        handle.write(b"\x00\x01\x02\x03")
    with pytest.raises(BundleError, match="content.data.npy is corrupted"):
        Recommender.load(artifacts)
    shutil.copy(spare / "content.data.npy", folder / "content.data.npy")

    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["schema_version"] = 99
    (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="schema version 99"):
        Recommender.load(artifacts)


def test_a_new_training_switches_current_and_keeps_one_previous(artifacts, tiny_data):
    first = (artifacts / CURRENT).read_text().strip()
    train(tiny_data, artifacts)
    train(tiny_data, artifacts)
    bundles = sorted(p.name for p in artifacts.glob("bundle-*"))
    assert len(bundles) == 2 and first not in bundles
    assert (artifacts / CURRENT).read_text().strip() in bundles
