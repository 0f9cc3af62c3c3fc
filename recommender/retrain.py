"""Whether the current bundle must be retrained: the data or the parameters changed since.

``make run`` trains with ``--if-changed``: the bundle's manifest records the size and sha256 of
each input CSV and the training parameters, so a run on the same files with the same
parameters keeps the bundle, and a changed, added or removed CSV retrains it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from recommender.bundle import BundleError, bundle_dir, read_manifest, sha256_of_each
from recommender.collaborative import effective_factors
from recommender.data import find_input_files
from recommender.download import has_data
from recommender.training import TrainingConfig


def needs_training(artifacts_dir: Path, data_dir: Path, config: TrainingConfig) -> tuple[bool, str]:
    """(True, why) when the bundle in ``artifacts_dir`` is missing, unreadable, or was not
    trained on exactly the CSVs in ``data_dir`` with ``config``; (False, why not) otherwise.

    A data folder without CSVs keeps an existing bundle: offline, ``make run`` still serves it.
    """
    try:
        manifest = read_manifest(bundle_dir(artifacts_dir))
    except BundleError as error:  # its first clause says why; the rest is how to train
        return True, str(error).split("; ")[0]
    if not has_data(data_dir):
        trained_on = ", ".join(entry["file"] for entry in manifest.get("inputs", []))
        return False, f"{data_dir}/ has no CSVs; keeping the bundle trained on {trained_on}"
    changed = changed_inputs(manifest.get("inputs", []), find_input_files(data_dir))
    if changed:
        return True, f"{changed} in {data_dir}/ since the bundle was trained"
    different = changed_parameters(manifest, config)
    if different:
        return True, f"other parameters than the bundle's ({different})"
    return False, f"the bundle was trained on these files of {data_dir}/ with these parameters"


def changed_inputs(recorded: list[dict[str, Any]], files: list[Path]) -> str:
    """What differs between the manifest's input fingerprints and ``files`` ("" if nothing):
    sizes are compared first, the sha256 only of files of the same size."""
    by_name = {entry["file"]: entry for entry in recorded}
    present = {path.name: path for path in files}
    if by_name.keys() != present.keys():
        added = sorted(present.keys() - by_name.keys())
        removed = sorted(by_name.keys() - present.keys())
        return "; ".join(
            [f"{name} added" for name in added] + [f"{name} removed" for name in removed]
        )
    resized = [
        name for name, path in present.items() if path.stat().st_size != by_name[name]["bytes"]
    ]
    if resized:
        return ", ".join(resized) + " changed"
    digests = sha256_of_each(present.values())
    edited = [name for name, path in present.items() if digests[path] != by_name[name]["sha256"]]
    return ", ".join(edited) + " changed" if edited else ""


def changed_parameters(manifest: dict[str, Any], config: TrainingConfig) -> str:
    """The training parameters that differ from the bundle's ("" if none). The factors asked
    for are compared with what the data allowed, as training lowers them on small data."""
    recorded = manifest.get("parameters", {})
    counts = manifest.get("counts", {})
    wanted = json.loads(json.dumps(asdict(config)))  # as the manifest holds it: tuples as lists
    if "users" in counts and "movies" in counts:
        wanted["factors"] = effective_factors(config.factors, (counts["users"], counts["movies"]))
    return ", ".join(
        f"{name} {value} (bundle: {recorded.get(name)})"
        for name, value in wanted.items()
        if recorded.get(name) != value
    )
