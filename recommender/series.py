"""Series: the films of one franchise know each other ("next in the Toy Story series").

MovieLens has no series column, so the trainer derives one from the titles (``series_keys``):
"Toy Story 2", "Godfather: Part II, The", "Star Wars: Episode V - The Empire Strikes Back",
"Back to the Future Part III", "Friday the 13th Part VI: Jason Lives" (a number, arabic or roman,
maybe after Part, Chapter or Episode); "Harry Potter and the ..." and "Indiana Jones and the ..."
(a name before "and the"); "Alien: Resurrection", "Batman Returns" (a series' name, then more);
"Aliens" (a series' name in the plural). Every name of a title counts, so "Alien³ (a.k.a. Alien
3)" is Alien's third. Titles alone also join a remake to its original ("Psycho (1998)") and
unrelated films that share a word ("Rocky Horror Picture Show" and "Rocky"), so a film stays in
a series only when its audience overlaps another entry's far more than chance
(``recommender.audiences``): most of the people who rated a sequel rated the film before it.

Within a series the films are ordered by their number where the title has one, else by year
(an unnumbered film sits after the numbered one released last before it: Star Wars' episodes
I-III come before IV although they were made later, and "The Clone Wars" (2008) after III).

``SeriesScorer`` scores, for a request: the next unseen entry after each liked one at the
like's weight, the later ones less and less (the next, not the fourth), the earlier unseen ones
less still; every entry of a series with a disliked film at minus the dislike's weight (the
whole series goes down with it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

import numpy as np
import scipy.sparse as sp

from recommender.audiences import PAIRWISE_FILMS, Audiences
from recommender.bundle import BundleError, expect_array
from recommender.scorer import BundleInfo, Request, Scorer
from recommender.titles import NUMERALS, display_title, split_title

if TYPE_CHECKING:
    from recommender.data import Dataset
    from recommender.model import Model, TrainingConfig

# fmt: off
_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "deux": 2}
# fmt: on
_ROMAN_NUMBERS = {roman: int(number) for roman, number in NUMERALS.items() if number.isdigit()}
# What may follow a series' name to make a sequel's: "2", "II", "Part 3", "Episode V", "Chapter
# Two", then the end of the name or more of it ("star trek ii: the wrath of khan").
_GAP = re.compile(r"[:,]?\s+")
_NUMBER = re.compile(
    r"(?P<marker>(?:part|chapter|episode|vol\.?|volume)\s+)?"
    r"(?P<number>\d{1,2}|[ivx]{1,5}|[a-z]+)(?=$|[\s:,.-])"
)
_SEPARATORS = (": ", " - ", " and the ")
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+")
_ARTICLE = re.compile(r"^(?:The|A|An)\s+")  # before a series' name in words
MIN_STEM = 3  # "2" or "Up" alone is no series' name
# A film joins a series when the people who rated it rated another entry far more often than
# people who rate as much do (``recommender.audiences``).
# The longest series of ml-latest-small has 15 films; a name more films share is a common word
# ("Night ...", "Love ..."): only its numbered and named films are asked, or none when too many.
MAX_SERIES_FILMS = 200
# How a loved entry's next unseen ones score: the next 1, the one after it LATER_FACTOR, ...;
# an unseen earlier one EARLIER_FACTOR per step back.
LATER_FACTOR = 0.5
EARLIER_FACTOR = 0.25


def normal_name(name: str) -> str:
    """A name as series are matched: lower case, no leading article, "&" as "and"."""
    name = " ".join(name.casefold().replace("&", "and").split())
    return _clean(_LEADING_ARTICLE.sub("", name))


def _clean(name: str) -> str:
    return name.strip(" .,:;-!?")


def _number(match: re.Match) -> int | None:
    text = match.group("number")
    if text.isdigit():
        return int(text) if match.group("marker") or 1 < int(text) < 20 else None
    if text in _ROMAN_NUMBERS and (text != "i" or match.group("marker")):
        return _ROMAN_NUMBERS[text]
    return _WORD_NUMBERS.get(text) if match.group("marker") else None


def numbered(name: str) -> tuple[str, int] | None:
    """ "toy story 2" -> ("toy story", 2); "star wars: episode iv - a new hope" -> ("star wars",
    4); None for a name without a sequel's number. "apollo 13" has one too, and two numbered
    titles of one name are linked without asking their audiences (Apollo 13 and Apollo 18)."""
    for gap in _GAP.finditer(name):
        match = _NUMBER.match(name, gap.end())
        stem = _clean(name[: gap.start()])
        number = _number(match) if match else None
        if number is not None and len(stem) >= MIN_STEM:
            return stem, number
    return None


# How a title names its series, strongest first: its number follows the name ("Toy Story 2"), it
# is the name ("Toy Story"), the name then a separator ("Alien: Resurrection", "Aliens"), the
# name then more words ("Batman Returns": many films start with one word, so the audiences
# must overlap more, ``OVERLAP_NEEDED``).
NUMBER, NAME, PART, WORDS = 0, 1, 2, 3
OVERLAP_NEEDED = {NUMBER: 0.2, NAME: 0.2, PART: 0.2, WORDS: 0.5}
_NEEDED = np.array([OVERLAP_NEEDED[evidence] for evidence in range(WORDS + 1)])


@dataclass(frozen=True)
class SeriesKey:
    """How one title names its series: the series' name, the evidence, the number if any."""

    stem: str
    evidence: int  # NUMBER, NAME, PART or WORDS
    number: int | None


def _evidence(
    own: list[str], numbers: list[tuple[str, int] | None], names: set[str]
) -> dict[str, tuple[int, int | None]]:
    """Every series name a title's names may belong to, with the strongest evidence of each."""
    found: dict[str, tuple[int, int | None]] = {}

    def add(stem: str, evidence: int, number: int | None = None) -> None:
        if len(stem) >= MIN_STEM and (stem not in found or evidence < found[stem][0]):
            found[stem] = (evidence, number)

    for hit in filter(None, numbers):
        add(hit[0], NUMBER, hit[1])
        for prefix in _separated(hit[0]):  # "harry potter and the deathly hallows" (part 1)
            add(prefix, PART)
    for name in own:
        add(name, NAME, 0)
        for prefix in _separated(name):
            add(prefix, PART)
        if name.endswith("s") and name[:-1] in names:
            add(name[:-1], WORDS)  # "aliens" -> "alien": as weak as a first word
        _, colon, tail = name.partition(": ")
        if colon and tail in names:
            add(tail, PART)  # "the lost world: jurassic park"
        words = name.split()
        for count in range(1, len(words)):
            prefix = _clean(" ".join(words[:count]))
            if prefix in names:
                add(prefix, WORDS)
    return found


def _separated(name: str) -> list[str]:
    """The name before each separator: "alien: resurrection" -> "alien"."""
    return [_clean(name[:at]) for sep in _SEPARATORS if (at := name.find(sep)) > 0]


def series_keys(titles: Sequence[str]) -> list[SeriesKey | None]:
    """Per title, how it names its series, or None when no other title names the same one.
    Titles only: ``find_series`` adds the audiences. The broadest series a title names wins
    ("Harry Potter" over "Harry Potter and the Deathly Hallows"); one only its first words
    may start comes last ("Big Momma's House" over "Big"), the longest first ("Blade Runner
    2049" -> "Blade Runner", not "Blade")."""
    names = [
        [normal_name(n) for n in (parts.name, *parts.alternatives)]
        for parts in map(split_title, titles)
    ]
    numbers = [[numbered(n) for n in own] for own in names]
    known = {n for own in names for n in own} | {h[0] for own in numbers for h in own if h}
    evidence = [_evidence(own, numbers[code], known) for code, own in enumerate(names)]
    holders: dict[str, int] = {}
    for found in evidence:
        for stem in found:
            holders[stem] = holders.get(stem, 0) + 1
    keys: list[SeriesKey | None] = []
    for found in evidence:
        shared = {stem: kind for stem, kind in found.items() if holders[stem] > 1}
        if not shared:
            keys.append(None)
            continue
        tier = min(1 if kind[0] < WORDS else 2 for kind in shared.values())
        options = [s for s, kind in shared.items() if (1 if kind[0] < WORDS else 2) == tier]
        # the broadest series the title names, or the narrowest its first words may start
        stem = max(options, key=lambda s: (holders[s], len(s)) if tier == 1 else (len(s), 0))
        keys.append(SeriesKey(stem, *shared[stem]))
    return keys


def find_series(
    titles: Sequence[str], years: Sequence[float], seen: sp.spmatrix | None
) -> list[np.ndarray]:
    """Every series, as the movie codes of its films in order (``series_keys`` by title, then
    the audiences): of films with the series' very name, the one whose audience overlaps the
    others' most is the series' (the others are remakes: "Psycho (1998)"); two films are
    linked when both carry the series' number, or their audiences overlap enough for the
    weaker evidence (``OVERLAP_NEEDED``); each linked group of two or more is a series if a
    title of it says more than its first words ("Reds" and "Three Colors: Red" are not one).
    ``seen`` None (the ratings are not in this process: the Spark engine's): titles alone,
    films with a number or the series' very name only."""
    keys = series_keys(titles)
    groups: dict[str, list[int]] = {}
    for code, key in enumerate(keys):
        if key is not None:
            groups.setdefault(key.stem, []).append(code)
    names = [codes for stem in sorted(groups) if len(codes := _asked(groups[stem], keys))]
    found = []
    for codes, overlap in _linked_names(names, keys, seen):
        keep = _without_remakes([keys[c] for c in codes], overlap)
        codes, overlap = codes[keep], overlap[np.ix_(keep, keep)]
        evidence = np.array([keys[c].evidence for c in codes])
        linked = _links(evidence[:, None], evidence[None, :], overlap)
        np.fill_diagonal(linked, False)
        for part in _linked_groups(linked):
            members = codes[part]
            if len(members) > 1 and min(keys[c].evidence for c in members) < WORDS:
                numbers = [keys[c].number for c in members]
                found.append(members[_order(numbers, [years[c] for c in members])])
    return found


def _asked(codes: list[int], keys: list[SeriesKey | None]) -> np.ndarray:
    """The films of one name whose audiences are asked (none when they cannot be a series)."""
    codes = _askable(np.asarray(codes), keys)
    if len(codes) < 2:  # the other titles of its name chose a broader series
        return codes[:0]
    if min(keys[c].evidence for c in codes) >= WORDS:
        return codes[:0]  # first words alone never make a series (find_series): nothing to ask
    return codes


def _links(first: np.ndarray, second: np.ndarray, overlap: np.ndarray) -> np.ndarray:
    """Whether two films of one name are linked, by their evidence and their overlap."""
    numbered_both = (first == NUMBER) & (second == NUMBER)
    return numbered_both | (overlap >= _NEEDED[np.maximum(first, second)])


def _linked_names(
    names: list[np.ndarray], keys: list[SeriesKey | None], seen: sp.spmatrix | None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(films, their overlap both ways, -inf on the diagonal) of each name whose films may be
    linked: by their audiences (``recommender.audiences``), or, without ratings, all or
    nothing by the titles."""
    evidence = np.array([-1 if key is None else key.evidence for key in keys], dtype=np.int64)
    audiences = None if seen is None else Audiences(seen)
    asked = [True] * len(names) if audiences is None else _may_link(names, evidence, audiences)
    for codes, ask in zip(names, asked, strict=True):
        if not ask:
            continue
        if audiences is None:
            strong = evidence[codes] <= NAME
            overlap = np.where(np.logical_and.outer(strong, strong), 1.0, -1.0)
        else:
            overlap = audiences.overlap(codes)
        overlap = np.maximum(overlap, overlap.T)
        np.fill_diagonal(overlap, -np.inf)
        yield codes, overlap


def _may_link(names: list[np.ndarray], evidence: np.ndarray, audiences: Audiences) -> np.ndarray:
    """Per name, whether two of its films may be linked: for the names of up to
    PAIRWISE_FILMS films, by a bound on their pairs' overlap, all pairs in one pass (most of
    the 13,000 names at 32M are none); a longer name always (one product answers it)."""
    small = [i for i, codes in enumerate(names) if len(codes) <= PAIRWISE_FILMS]
    pairs = [np.triu_indices(len(names[i]), 1) for i in small]
    first, second = (
        np.concatenate(
            [np.zeros(0, int), *(names[n][p[side]] for n, p in zip(small, pairs, strict=False))]
        )
        for side in (0, 1)
    )
    linked = _links(evidence[first], evidence[second], audiences.may_overlap(first, second))
    name_of = np.repeat(np.asarray(small, dtype=np.int64), [len(i) for i, _ in pairs])
    may = np.array([len(codes) > PAIRWISE_FILMS for codes in names], dtype=bool)
    may[name_of[linked]] = True
    return may


def _linked_groups(linked: np.ndarray) -> list[np.ndarray]:
    """The positions of each connected group of a symmetric link matrix, in the order of their
    first film. A few films are joined in plain Python: scipy's graph search costs a
    millisecond of checks per call, and a large catalogue asks thousands of small names."""
    if len(linked) > PAIRWISE_FILMS:
        _, label = sp.csgraph.connected_components(sp.csr_matrix(linked), directed=False)
    else:
        label = np.arange(len(linked))
        for i, j in zip(*np.nonzero(linked), strict=True):
            if label[i] != label[j]:
                label[label == max(label[i], label[j])] = min(label[i], label[j])
    _, first = np.unique(label, return_index=True)
    return [np.flatnonzero(label == label[at]) for at in np.sort(first)]


def _askable(codes: np.ndarray, keys: list[SeriesKey | None]) -> np.ndarray:
    """The films of one name whose audiences are compared: all, or for a name too many films
    share, those it names strongly (none if still too many: no series is that long)."""
    if len(codes) > MAX_SERIES_FILMS:
        codes = np.asarray([c for c in codes if keys[c].evidence < WORDS], dtype=np.int64)
    return codes if len(codes) <= MAX_SERIES_FILMS else codes[:0]


def _without_remakes(keys: list[SeriesKey], overlap: np.ndarray) -> np.ndarray:
    """Positions to keep: all but the films with the series' very name whose audience
    overlaps the others' less than one of them does (remakes, or an earlier film the series
    is not about: "Batman (1966)")."""
    named = [i for i, key in enumerate(keys) if key.evidence == NAME and key.number == 0]
    keep = np.ones(len(keys), dtype=bool)
    if len(named) > 1:
        others = [i for i in range(len(keys)) if i not in named]
        pull = [overlap[i, others].mean() if others else -float(i) for i in named]
        keep[[i for i, _ in sorted(zip(named, pull, strict=True), key=lambda p: -p[1])[1:]]] = False
    return np.flatnonzero(keep)


def _order(numbers: list[int | None], years: list[float]) -> np.ndarray:
    """The order of a series' films: by number where the title has one (the film the series
    is named after is the first if it came first), the others after the numbered film
    released last before them, by year."""
    years = [float(y) if y is not None and y == y else 9999.0 for y in years]
    first = min(range(len(years)), key=lambda i: (years[i], numbers[i] != 0))  # "Breakin'"
    numbers = [
        1 if n == 0 and i == first else (None if n == 0 else n) for i, n in enumerate(numbers)
    ]
    for i, number in enumerate(numbers):  # a second "Halloween II" (2009) follows by its year
        if number and any(n == number and years[j] < years[i] for j, n in enumerate(numbers)):
            numbers[i] = None
    released = sorted((years[i], n) for i, n in enumerate(numbers) if n)
    keys = []
    for i, number in enumerate(numbers):
        if number:
            keys.append((number, 0, years[i]))
        else:
            before = [n for year, n in released if year <= years[i]]
            keys.append((before[-1] if before else 0, 1, years[i]))
    return np.asarray(sorted(range(len(keys)), key=lambda i: keys[i]), dtype=np.int64)


def series_name(titles: Sequence[str]) -> str:
    """What a reason calls a series, as its titles write it: "Toy Story", "Star Wars", "The
    Godfather", "Harry Potter" (the first film's name when no title names it)."""
    stems = [key.stem for key in series_keys(titles) if key is not None]
    if stems:
        stem = max(sorted(set(stems)), key=stems.count)
        for parts in map(split_title, titles):
            for name in (parts.name, *parts.alternatives):
                if normal_name(name).startswith(stem):
                    words = name.split()
                    article = _LEADING_ARTICLE.match(name.casefold()) is not None
                    return _clean(" ".join(words[: len(stem.split()) + article]))
    return display_title(titles[0])


class SeriesScorer(Scorer):
    """Series: the next unseen film of a series the visitor liked; a disliked film's whole
    series down (``find_series``: titles and audiences, at training)."""

    name = "series"
    label = "Series"
    help = "The next film of a series you liked first; a series you disliked goes down"
    # chosen on validation users by the rule, the rest kept (benchmarks/series_weight.py)
    default_weight = 0.3
    tuning_weights = (0.0, 0.15, 0.3)  # 3x the blend grid of --tune; the benchmark's is finer
    unit_range = True  # 1 for the next film after a 5-star one, -1 for a hated series
    reason_first = True  # "next in the Toy Story series" says more than any other reason

    def __init__(self, members: np.ndarray, starts: np.ndarray, titles: np.ndarray):
        self.members = members.astype(np.int32, copy=False)
        self.starts = starts.astype(np.int32, copy=False)
        self.titles = titles
        self.series_of = np.full(len(titles), -1, dtype=np.int32)
        self.series_of[self.members] = np.repeat(
            np.arange(len(self.starts) - 1, dtype=np.int32), np.diff(self.starts)
        )
        self._names: dict[int, str] = {}

    @classmethod
    def from_training(cls, model: Model, config: TrainingConfig) -> Self:
        return cls.from_data(model.data, config)

    @classmethod
    def from_data(cls, data: Dataset, config: TrainingConfig) -> Self:
        """The series from the titles and the audiences: no fitted model needed."""
        movies = data.movies
        ratings = data.ratings
        seen = ratings if sp.issparse(ratings) else None  # the Spark engine's stay on its executors
        found = find_series(
            movies["title"].astype(str).tolist(), movies["year"].astype("float").tolist(), seen
        )
        return cls.from_series(found, movies["title"].to_numpy())

    @classmethod
    def from_series(cls, found: Sequence[np.ndarray], titles: np.ndarray) -> Self:
        """The scorer for series given as movie codes in order."""
        sizes = [len(members) for members in found]
        members = np.concatenate([np.zeros(0, np.int32), *found]).astype(np.int32)
        starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int32)
        return cls(members, starts, titles)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], info: BundleInfo) -> Self:
        members = np.asarray(expect_array(arrays, "members", (None,), "iu"), dtype=np.int64)
        starts = np.asarray(expect_array(arrays, "starts", (None,), "iu"), dtype=np.int64)
        valid = (
            len(starts) >= 1
            and starts[0] == 0
            and starts[-1] == len(members)
            and bool((np.diff(starts) >= 2).all())
            and bool(((members >= 0) & (members < len(info.movies))).all())
            and len(np.unique(members)) == len(members)
        )
        if not valid:
            raise BundleError(
                "bundle array 'series.members' or 'series.starts' is not a list "
                "of series of the bundle's movies; retrain it"
            )
        return cls(members, starts, info.movies["title"].to_numpy())

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"members": self.members, "starts": self.starts}

    def _entries(self, code: int) -> np.ndarray:
        series = self.series_of[code]
        return self.members[self.starts[series] : self.starts[series + 1]]

    def _following(self, request: Request) -> dict[int, tuple[float, int, int]]:
        """movie code -> (its score from the liked films, steps after the liked film it
        follows, that film's code): the next unseen one after each liked film 1 x the like, the
        later ones LATER_FACTOR less per step, the unseen earlier ones EARLIER_FACTOR."""
        in_profile = set(request.codes.tolist())
        found: dict[int, tuple[float, int, int]] = {}
        for code, weight in zip(request.codes, request.weights, strict=True):
            if weight <= 0 or self.series_of[code] < 0:
                continue
            entries = self._entries(code).tolist()
            at = entries.index(code)
            later = [c for c in entries[at + 1 :] if c not in in_profile]
            earlier = [c for c in reversed(entries[:at]) if c not in in_profile]
            steps = [(c, float(weight) * LATER_FACTOR**d, d + 1) for d, c in enumerate(later)]
            steps += [
                (c, float(weight) * EARLIER_FACTOR ** (d + 1), 0) for d, c in enumerate(earlier)
            ]
            for movie, score, step in steps:
                if movie not in found or score > found[movie][0]:
                    found[movie] = (score, step, int(code))
        return found

    def scores(self, request: Request) -> np.ndarray:
        """The liked films' following ones (``_following``), minus the weight of a dislike for
        every film of a disliked film's series."""
        scores = np.zeros(len(self.titles), dtype=np.float32)
        for movie, (score, _, _) in self._following(request).items():
            scores[movie] = score
        for code, weight in zip(request.codes, request.weights, strict=True):
            if weight < 0 and self.series_of[code] >= 0:
                entries = self._entries(code)
                scores[entries] = np.maximum(scores[entries] + np.float32(weight), -1.0)
        return scores

    def reasons(self, codes: np.ndarray, request: Request) -> list[str | None]:
        """ "next in the Toy Story series" for the next unseen film after a liked one; "also
        in the Toy Story series" for the others it brings up."""
        following = self._following(request)
        reasons: list[str | None] = []
        for code in codes.tolist():
            if code not in following:
                reasons.append(None)
                continue
            name = self.name_of(code)
            step = following[code][1]
            name = _ARTICLE.sub("", name)  # "the Godfather series", not "the The Godfather"
            reasons.append(
                f"next in the {name} series" if step == 1 else f"also in the {name} series"
            )
        return reasons

    def name_of(self, code: int) -> str:
        """The name of the series of movie ``code`` ("Toy Story")."""
        series = int(self.series_of[code])
        if series not in self._names:
            self._names[series] = series_name([str(self.titles[c]) for c in self._entries(code)])
        return self._names[series]
