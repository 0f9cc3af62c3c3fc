"""Fetch the official MovieLens ml-latest-small data set from GroupLens."""

from __future__ import annotations

import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from recommender.data import LINKS_FILE, MOVIES_FILE, RATINGS_FILE, TAGS_FILE, DataError

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
WANTED = (MOVIES_FILE, RATINGS_FILE, LINKS_FILE, TAGS_FILE, "README.txt")
REQUIRED = (MOVIES_FILE, RATINGS_FILE)
MAX_BYTES = 200 * 1024 * 1024  # ml-latest-small is about 1 MB; refuse anything absurd


def has_data(data_dir: Path) -> bool:
    """True when ``data_dir`` holds the CSVs training needs."""
    return all((data_dir / name).is_file() for name in REQUIRED)


def locate_data(data_dir: Path) -> Path:
    """The folder that holds the CSVs: ``data_dir`` itself or, as the GroupLens zip unpacks
    (data/ml-latest-small/movies.csv), its one subfolder that has them. Raises DataError when
    several subfolders do: which one to use is the user's choice."""
    if has_data(data_dir) or not data_dir.is_dir():
        return data_dir
    inside = sorted(folder for folder in data_dir.iterdir() if folder.is_dir() and has_data(folder))
    if len(inside) > 1:
        names = ", ".join(f"{folder.name}/" for folder in inside)
        raise DataError(
            f"{data_dir}/ holds several data sets ({names}); choose one with "
            f"make run DATA_DIR={inside[0]} (or --data-dir {inside[0]})"
        )
    return inside[0] if inside else data_dir


def where_data_goes(data_dir: Path, url: str = GROUPLENS_URL) -> str:
    """One sentence saying exactly where the CSVs go, for a user without them."""
    folder = Path(urllib.parse.urlparse(url).path).stem  # the zip's own folder
    return (
        f"download {url} and unzip it into {data_dir}/ (giving {data_dir}/{folder}/movies.csv "
        f"and ratings.csv; that layout is read as it is), or put movies.csv and ratings.csv "
        f"straight into {data_dir}/, or use a folder that has them: make run DATA_DIR=/path/to/it "
        f"(python train_and_save_model.py --data-dir /path/to/it)"
    )


def download_movielens(data_dir: str | Path, url: str = GROUPLENS_URL, timeout: float = 60) -> list:
    """Download the zip at ``url``, check it and unpack its CSVs into ``data_dir``.

    Raises DataError with one line that says where to put the files by hand when the download
    or the check fails.
    """
    data_dir = Path(data_dir)
    by_hand = where_data_goes(data_dir, url)
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "movielens.zip"
        try:
            _fetch(url, archive, timeout)
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise DataError(f"cannot download {url} ({reason}); {by_hand}") from None
        members = _checked_members(archive, url, by_hand)
        data_dir.mkdir(parents=True, exist_ok=True)
        written = []
        with zipfile.ZipFile(archive) as bundle:
            for name, member in members.items():
                target = data_dir / name
                partial = data_dir / f".{name}.partial"
                with bundle.open(member) as source, partial.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
                partial.replace(target)
                written.append(target)
    return written


def _fetch(url: str, target: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, target.open("wb") as sink:
        total = 0
        while block := response.read(1 << 16):
            total += len(block)
            if total > MAX_BYTES:
                raise ValueError(f"the download is larger than {MAX_BYTES // 2**20} MB")
            sink.write(block)


def _checked_members(archive: Path, url: str, by_hand: str) -> dict[str, str]:
    """The wanted CSVs in the zip by plain name, after checking the zip's CRCs."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            broken = bundle.testzip()
            names = bundle.namelist()
    except zipfile.BadZipFile:
        raise DataError(f"{url} did not give a valid zip file; {by_hand}") from None
    if broken is not None:
        raise DataError(f"{url}: {broken} in the zip is corrupted; {by_hand}")
    members = {Path(name).name: name for name in names if Path(name).name in WANTED}
    missing = [name for name in REQUIRED if name not in members]
    if missing:
        raise DataError(f"{url}: the zip has no {missing[0]}; {by_hand}")
    return members
