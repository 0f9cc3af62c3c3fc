"""Contained, total loading: whatever is in the artifacts folder, loading it either gives the
bundle that was written or one ``BundleError`` whose message says the fix.

Each test tampers with a real bundle as an attacker who can write the folder would, keeping the
manifest's checksums consistent where that matters (so the checksum is not what catches it).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender import BundleError, Recommender
from recommender.bundle import (
    CURRENT,
    MANIFEST,
    bundle_dir,
    expect_array,
    load_bundle,
    update_manifest,
)


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text())


def write_manifest(folder: Path, manifest: object) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest))


def replace_file(folder: Path, name: str, data: bytes, **entry: object) -> None:
    """Write ``name`` and record it in the manifest with a matching size and checksum."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    manifest = manifest_of(folder)
    recorded = manifest["files"].get(name, {})
    digest = hashlib.sha256(data).hexdigest()
    manifest["files"][name] = {**recorded, "bytes": len(data), "sha256": digest, **entry}
    write_manifest(folder, manifest)


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def load_error(artifacts: Path, verify: bool = True) -> str:
    with pytest.raises(BundleError) as caught:
        Recommender.load(artifacts, verify=verify)
    message = str(caught.value)
    assert "train_and_save_model.py" in message  # every message says the fix
    return message


# --- CURRENT and the bundle directory ------------------------------------------------------------


@pytest.mark.parametrize(
    ("pointer", "message"),
    [
        ("../../outside/b", "not the name of a bundle directory"),
        ("/tmp", "not the name of a bundle directory"),
        ("..", "not the name of a bundle directory"),
        ("a/b", "not the name of a bundle directory"),
        (".building-x", "not the name of a bundle directory"),
        ("", "not the name of a bundle directory"),
        ("two\nlines", "not the name of a bundle directory"),
        ("bundle-that-is-not-there", "which does not exist"),
    ],
)
def test_current_must_name_a_plain_directory_beside_it(artifacts, pointer, message):
    (artifacts / CURRENT).write_text(pointer + "\n")
    assert message in load_error(artifacts)


def test_current_outside_the_folder_is_refused_even_when_it_holds_a_bundle(artifacts, tmp_path):
    outside = tmp_path / "outside" / "b"
    os.renames(bundle_dir(artifacts), outside)  # a complete, valid bundle, outside the folder
    (artifacts / CURRENT).write_text("../outside/b\n")
    assert "not the name of a bundle directory" in load_error(artifacts)


def test_symbolic_links_are_refused(artifacts, tmp_path):
    folder = bundle_dir(artifacts)
    name = folder.name
    # CURRENT itself a link (to a file naming the bundle)
    elsewhere = tmp_path / "pointer"
    elsewhere.write_text(name + "\n")
    (artifacts / CURRENT).unlink()
    (artifacts / CURRENT).symlink_to(elsewhere)
    assert "is not a regular file" in load_error(artifacts)
    (artifacts / CURRENT).unlink()
    (artifacts / CURRENT).write_text("linked\n")
    # the bundle directory a link to a valid bundle outside the folder
    outside = tmp_path / "outside"
    folder.rename(outside)
    (artifacts / "linked").symlink_to(outside, target_is_directory=True)
    assert "is not a plain directory" in load_error(artifacts)
    (artifacts / "linked").unlink()
    outside.rename(folder)
    (artifacts / CURRENT).write_text(name + "\n")
    Recommender.load(artifacts)
    # a file of the bundle replaced by a link to an identical copy outside it
    copy = tmp_path / "copy.npy"
    copy.write_bytes((folder / "personal.item_factors.npy").read_bytes())
    (folder / "personal.item_factors.npy").unlink()
    (folder / "personal.item_factors.npy").symlink_to(copy)
    assert "is a symbolic link" in load_error(artifacts)


# --- the manifest ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../../outside/x.npy", "/etc/passwd", "a/../../x.npy", ""])
def test_manifest_paths_must_stay_inside_the_bundle(artifacts, name):
    folder = bundle_dir(artifacts)
    manifest = manifest_of(folder)
    manifest["files"][name] = {"bytes": 1, "sha256": "0" * 64, "dtype": "<f4", "shape": [1]}
    write_manifest(folder, manifest)
    assert "not a path inside the bundle" in load_error(artifacts)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: [m], "holds a JSON list, not an object"),
        (lambda m: "text", "holds a JSON str, not an object"),
        (lambda m: {k: v for k, v in m.items() if k != "files"}, "the 'files' section is missing"),
        (
            lambda m: {k: v for k, v in m.items() if k != "parameters"},
            "the 'parameters' section is missing",
        ),
        (lambda m: {**m, "files": list(m["files"])}, "'files' is a list, expected a dict"),
        (lambda m: {**m, "counts": {"movies": "6"}}, "'counts' must hold whole numbers"),
        (lambda m: {**m, "genres": [1, 2]}, "'genres' must be a list of names"),
        (lambda m: {**m, "schema_version": 1}, "has schema version 1"),
        (
            lambda m: {**m, "files": {k: 5 for k in m["files"]}},
            "expected an object with bytes and sha256",
        ),
        (
            lambda m: {**m, "files": {k: {**v, "sha256": "x"} for k, v in m["files"].items()}},
            "'sha256' (64 hex digits)",
        ),
        (
            lambda m: {**m, "files": {k: {**v, "shape": None} for k, v in m["files"].items()}},
            "an array needs 'dtype' (text) and 'shape'",
        ),
    ],
)
def test_manifest_structure_is_checked(artifacts, change, message):
    folder = bundle_dir(artifacts)
    write_manifest(folder, change(manifest_of(folder)))
    assert message in load_error(artifacts)


def test_a_manifest_that_is_not_json_or_too_deep_is_one_error(artifacts):
    folder = bundle_dir(artifacts)
    (folder / MANIFEST).write_text("{not json")
    assert "cannot be read" in load_error(artifacts)
    (folder / MANIFEST).write_text("[" * 100_000 + "]" * 100_000)
    assert "cannot be read" in load_error(artifacts)


# --- every file listed, every listed file checked ----------------------------------------------


def test_an_unlisted_file_is_refused(artifacts):
    folder = bundle_dir(artifacts)
    (folder / "extra.npy").write_bytes(npy_bytes(np.zeros(3)))
    assert "extra.npy is not listed in the manifest" in load_error(artifacts)
    (folder / "extra.npy").unlink()
    (folder / "notes").mkdir()
    (folder / "notes" / "x.txt").write_text("hello")
    assert "notes/x.txt is not listed in the manifest" in load_error(artifacts, verify=False)


def test_dropping_a_file_from_the_manifest_does_not_let_it_through(artifacts):
    """The issue's case: edit movies.parquet and drop it from the list."""
    folder = bundle_dir(artifacts)
    movies = pd.read_parquet(folder / "movies.parquet")
    movies.loc[0, "title"] = "Edited"
    movies.to_parquet(folder / "movies.parquet", index=False)
    manifest = manifest_of(folder)
    del manifest["files"]["movies.parquet"]
    write_manifest(folder, manifest)
    assert "does not list movies.parquet" in load_error(artifacts)
    manifest["files"]["movies.parquet"] = {"bytes": 1, "sha256": "0" * 64}
    del manifest["files"]["content.data.npy"]
    write_manifest(folder, manifest)
    assert "content.data.npy is not listed" in load_error(artifacts)


def test_a_manifest_update_leaves_nothing_unlisted_in_the_bundle(artifacts):
    update_manifest(artifacts, evaluation={"k": 10})  # the manifest itself is never listed
    assert Recommender.load(artifacts).manifest["evaluation"] == {"k": 10}
    assert {path.name for path in artifacts.iterdir()} == {
        CURRENT,
        ".trainer.lock",
        bundle_dir(artifacts).name,
    }
    stray = bundle_dir(artifacts) / ".manifest.json.1a2b3c"
    stray.write_text("{}")
    message = load_error(artifacts)
    assert ".manifest.json.1a2b3c is not listed in the manifest" in message
    assert "delete it" in message


def test_per_user_parquet_parts_in_a_subdirectory_are_legitimate(artifacts):
    folder = bundle_dir(artifacts)
    part = pd.DataFrame({"userId": [1, 2], "movieId": [3, 4]})
    data = part.to_parquet(index=False)
    replace_file(folder, "users/part-00000-1a2b.snappy.parquet", data)
    Recommender.load(artifacts)
    (folder / "users" / "part-00001.parquet").write_bytes(data)
    assert "users/part-00001.parquet is not listed" in load_error(artifacts)


# --- what the files hold ------------------------------------------------------------------------


def test_a_pickled_object_array_with_a_matching_checksum_is_refused(artifacts):
    folder = bundle_dir(artifacts)
    hostile = np.array([{"a": 1}, None], dtype=object)
    data = npy_bytes(hostile, allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle"):  # a pickle inside a .npy
        np.load(io.BytesIO(data), allow_pickle=False)
    replace_file(folder, "general_cf.scores.npy", data)  # the manifest still records float32
    assert "a bundle array holds numbers only" in load_error(artifacts)
    replace_file(
        folder, "general_cf.scores.npy", data, dtype="|O", shape=[2]
    )  # and when it says so
    assert "a bundle array holds numbers only" in load_error(artifacts)


def test_an_array_must_have_the_dtype_and_shape_the_manifest_records(artifacts):
    folder = bundle_dir(artifacts)
    original = np.load(folder / "personal.item_factors.npy")
    replace_file(folder, "personal.item_factors.npy", npy_bytes(original[:-1]))
    message = load_error(artifacts)
    assert (
        "personal.item_factors.npy: holds <f2" in message and "the manifest records <f2" in message
    )
    replace_file(folder, "personal.item_factors.npy", npy_bytes(original.astype(np.float64)))
    assert "holds <f8" in load_error(artifacts)


def test_a_truncated_array_is_refused_without_checksums(artifacts):
    folder = bundle_dir(artifacts)
    path = folder / "content.data.npy"
    path.write_bytes(path.read_bytes()[:-8])
    assert "its header says" in load_error(artifacts, verify=False)
    path.write_bytes(b"not an array at all")
    assert "is not a .npy array" in load_error(artifacts, verify=False)


def test_a_garbage_parquet_with_a_matching_checksum_is_refused(artifacts):
    folder = bundle_dir(artifacts)
    replace_file(folder, "movies.parquet", b"PAR1 this is not a parquet file PAR1")
    assert "cannot be read as Parquet" in load_error(artifacts)
    replace_file(folder, "movies.parquet", b"plain text")
    assert "is not a Parquet file" in load_error(artifacts)


def test_a_movie_table_that_does_not_fit_the_manifest_is_refused(artifacts):
    folder = bundle_dir(artifacts)
    movies = pd.read_parquet(folder / "movies.parquet")
    replace_file(folder, "movies.parquet", movies.iloc[:-1].to_parquet(index=False))
    assert "movies.parquet has 5 rows; the manifest counts 6 movies" in load_error(artifacts)
    replace_file(folder, "movies.parquet", movies.drop(columns="title").to_parquet(index=False))
    assert "movies.parquet has no column 'title'" in load_error(artifacts)
    as_text = movies.assign(movieId=movies["movieId"].astype(str))
    replace_file(folder, "movies.parquet", as_text.to_parquet(index=False))
    assert "not whole numbers" in load_error(artifacts)


def test_a_garbage_listed_part_is_refused(artifacts):
    replace_file(bundle_dir(artifacts), "users/part-00000.parquet", b"garbage")
    assert "users/part-00000.parquet is not a Parquet file" in load_error(artifacts)


def test_an_untouched_bundle_loads_the_arrays_it_wrote(artifacts):
    bundle = load_bundle(artifacts)
    folder = bundle_dir(artifacts)
    for name, entry in bundle.manifest["files"].items():
        if name.endswith(".npy"):
            array = bundle.arrays[name.removesuffix(".npy")]
            assert (array.dtype.str, list(array.shape)) == (entry["dtype"], entry["shape"])
            np.testing.assert_array_equal(array, np.load(folder / name))


# --- expect_array, for the scorers' loaders ----------------------------------------------------


def test_expect_array_checks_shape_and_kind():
    arrays = {"factors": np.zeros((5, 3), dtype=np.float32), "ids": np.arange(5)}
    assert expect_array(arrays, "factors", (5, None), "f") is arrays["factors"]
    assert expect_array(arrays, "ids", (None,), "iu") is arrays["ids"]
    with pytest.raises(BundleError, match=r"'factors' is float32 5x3, expected 6x3"):
        expect_array(arrays, "factors", (6, 3), "f")
    with pytest.raises(BundleError, match=r"'factors' is float32 5x3, expected any"):
        expect_array(arrays, "factors", (None,), "iu")
    with pytest.raises(BundleError, match="'ids' is int64 5, expected 5"):
        expect_array(arrays, "ids", (5,), "f")
    with pytest.raises(BundleError, match="the bundle has no array 'missing'"):
        expect_array(arrays, "missing", (5,), "f")


def test_an_array_consistent_with_its_entry_but_not_the_counts_is_refused_on_load(artifacts):
    """The issue's case: an array of the wrong shape loaded and failed later with IndexError."""
    folder = bundle_dir(artifacts)
    original = np.load(folder / "personal.item_factors.npy")
    shorter = original[:-1]
    replace_file(folder, "personal.item_factors.npy", npy_bytes(shorter), shape=list(shorter.shape))
    load_bundle(artifacts)  # the file is what its entry says ...
    assert "'item_factors' is float16 5x3, expected 6xany" in load_error(artifacts)  # not counts
