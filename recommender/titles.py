"""Movie titles as people read and type them.

MovieLens writes titles like a library card: "Matrix, The (1999)", "Fabuleux destin d'Amélie
Poulain, Le", "Twelve Monkeys (a.k.a. 12 Monkeys) (1995)". ``display_title`` gives "The Matrix"
and ``title_years`` gives "1999", so a page shows the year once. ``TitleSearch`` finds the film a
visitor means: articles, case, accents and punctuation do not matter ("godfather, the",
"WALL·E", "wall-e", "walle"), a half-typed word matches ("toy st"), a typo is forgiven
("godfathr"), the words of a query may come in any order and from any of a movie's names
("star wars empire", "amelie fabuleux"), numbers meet roman numerals ("godfather 2" finds The
Godfather: Part II), and among the matches the well-known film comes first.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, islice, product

import numpy as np
from rapidfuzz import fuzz, process

# Articles MovieLens moves behind the title ("Godfather, The"), as it capitalises them.
# fmt: off
ARTICLES = frozenset({
    "The", "A", "An", "Le", "La", "Les", "L'", "Il", "I", "Lo", "Gli", "El", "Los", "Las", "Un",
    "Une", "Una", "Uno", "Der", "Die", "Das", "Den", "Det", "De", "Het", "En", "Ett", "Ein",
    "Eine", "O", "Os",
})
# fmt: on
_LOWER_ARTICLES = frozenset(article.lower() for article in ARTICLES)
# The years at the end of a title: "(1995)", a series "(2006-2007)" or "(2006–2007)", "(2016-)".
_YEARS_AT_END = re.compile(r"\s*\((\d{4})\s*(?:[-–]\s*(\d{4})?)?\)\s*$")
# A name without parentheses or commas and a single year: nothing to take apart.
_PLAIN = re.compile(r"([^(),]*[^(), ]) \((\d{4})\)")
_AKA = re.compile(r"^(?:a\.k\.a\.?|aka)\s+", re.IGNORECASE)
# Letters NFKD keeps whole: "Grønne" is typed "gronne", "Straße" "strasse".
_FOLD = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d"})
_WORD = re.compile(r"[^\W_]+")


def normalize_text(text: str) -> str:
    """Lower case without accents, for search: "Amélie" and "AMELIE" both become "amelie"."""
    text = str(text)
    if text.isascii():  # most titles: NFKD changes nothing and nothing is combining
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.casefold().split())


@dataclass(frozen=True)
class TitleParts:
    """A MovieLens title taken apart: the name, other names it is known by, and its years."""

    name: str
    alternatives: tuple[str, ...]
    years: str | None


def split_title(title: str) -> TitleParts:
    """ "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)" -> name "Amelie", alternatives
    ("Le Fabuleux destin d'Amélie Poulain",), years "2001". Articles go back in front; an
    "a.k.a." marker is dropped (the parentheses already say it)."""
    text = " ".join(str(title).split())
    plain = _PLAIN.fullmatch(text)
    if plain:  # most titles: "Heat (1995)"; this path makes a 87,585-title index 2x faster
        return TitleParts(plain.group(1), (), plain.group(2))
    years = None
    found = _YEARS_AT_END.search(text)
    if found and found.start() > 0:
        first, last = found.group(1), found.group(2)
        dash = "-" in found.group(0) or "–" in found.group(0)
        years = f"{first}–{last or ''}" if dash else first
        text = text[: found.start()]
    groups = []
    while text.endswith(")"):
        start = _opening_parenthesis(text)
        if start <= 0:  # "(500) Days of Summer": a parenthesis that is the name itself
            break
        groups.append(text[start + 1 : -1].strip())
        text = text[:start].rstrip()
    alternatives = tuple(article_first(_AKA.sub("", group)) for group in reversed(groups))
    return TitleParts(article_first(text), tuple(a for a in alternatives if a), years)


def _opening_parenthesis(text: str) -> int:
    """Where the parenthesis closed by the last character of ``text`` opens (-1 if nowhere)."""
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[index], 0)
        if depth == 0:
            return index
    return -1


def article_first(name: str) -> str:
    """ "Matrix, The" -> "The Matrix"; "Crow, The: Wicked Prayer" -> "The Crow: Wicked Prayer";
    "Atalante, L'" -> "L'Atalante". Other commas ("Monsters, Inc.") stay."""
    head, colon, rest = name.partition(": ")
    body, comma, article = head.rpartition(", ")
    if not comma or article not in ARTICLES:
        if not colon:
            return name
        body, comma, article = name.rpartition(", ")  # the article may also end the subtitle
        if not comma or article not in ARTICLES:
            return name
        head, colon, rest = body, "", ""
    joiner = "" if article.endswith("'") else " "
    return f"{article}{joiner}{body}{colon}{rest}"


def display_title(title: str) -> str:
    """The title as people write it, without its year: "Matrix, The (1999)" -> "The Matrix".

    Other names follow in one parenthesis ("Amelie (Le Fabuleux destin d'Amélie Poulain)"),
    except those the name already says ("Léon: The Professional (a.k.a. The Professional)
    (Léon)" -> "Léon: The Professional")."""
    parts = split_title(title)
    shown = [parts.name]
    for alternative in parts.alternatives:
        key = compact_key(alternative)
        if not any(key in compact_key(name) for name in shown):
            shown.append(alternative)
    if len(shown) == 1:
        return parts.name or str(title).strip()
    return f"{parts.name} ({' / '.join(shown[1:])})"


def title_years(title: str) -> str | None:
    """The year of a title, shown apart: "1999"; a series' "2006–2007"; None when absent."""
    return split_title(title).years


@lru_cache(maxsize=4096)  # a long list quotes the same few profile titles row after row
def quoted_title(title: str) -> str:
    """A title as a reason quotes it: "Godfather, The (1972)" -> "The Godfather (1972)"."""
    years = title_years(title)
    return f"{display_title(title)} ({years})" if years else display_title(title)


def search_words(text: str) -> list[str]:
    """The words of a title or query for search: lower case, no accents, no punctuation."""
    return _WORD.findall(normalize_text(text).translate(_FOLD))


def compact_key(text: str) -> str:
    """Letters and digits only: "WALL·E", "Wall-E" and "walle" all give "walle"."""
    return "".join(search_words(text))


# Relevance of a match, before popularity is added: the whole name, its start, a word's start,
# inside a word. A typo-corrected match gets TYPO_FACTOR times its tier and its similarity.
EXACT, PREFIX, WORD_START, INSIDE = 1.0, 0.8, 0.5, 0.3
# Every word of the query somewhere in the movie's names, not one after another: below every
# consecutive match of the same popularity ("star wars empire" -> The Empire Strikes Back).
ALL_WORDS = 0.25
TYPO_FACTOR = 0.7
# Less for a match whose words part where the title's do not: "toys" means Toys (1992) more
# than Toy Story, "them" Them! more than The Matrix, "e.t." E.T. more than Eternal Sunshine.
ACROSS_WORDS = 0.2
# Popularity (log of the number of ratings, 0-1) counts half as much as relevance: an exact
# match beats a prefix match unless the prefix match is far better known ("star" -> Star Wars).
POPULARITY_WEIGHT = 0.5
MIN_INSIDE = 3  # letters before matches inside words count ("fellas" -> Goodfellas)
MAX_INSIDE = 2000  # occurrences looked at inside words; enough to fill any page
MIN_TYPO = 4  # shorter words are not corrected: too many words are one edit away
TYPO_CUTOFF = 75  # rapidfuzz ratio (0-100) for a word to count as a correction
TYPO_CHOICES = 3  # corrections tried per word
MAX_TYPO_WORDS = 3  # words corrected per query: a pasted paragraph costs no more than a title
MAX_QUERY_WORDS = 8  # words looked up one by one for an all-words match
_END = "\U0010ffff"  # sorts after every letter: the end of a prefix range
# Sequels are numbered either way: "Rocky II", "Toy Story 2". A number typed either way finds
# both (as whole words only: "ii" is not the start of "iii").
# fmt: off
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x",
          "xi", "xii", "xiii", "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx")
# fmt: on
NUMERALS: dict[str, str] = {
    **{str(number): roman for number, roman in enumerate(_ROMAN, start=1)},
    **{roman: str(number) for number, roman in enumerate(_ROMAN, start=1)},
}


class TitleSearch:
    """Finds movies by title as a visitor types; built once from the catalogue.

    ``titles[code]`` and ``popularity[code]`` (e.g. the number of ratings) describe the movie
    with that code. Every name of a movie (its title and the names in parentheses) is kept as
    its letters and digits only ("thegodfather"), and the start of each word is kept in one
    sorted list, so the names that start a word with the query are one binary search away.
    """

    def __init__(self, titles: Sequence[str], popularity: Sequence[float] | np.ndarray) -> None:
        votes = np.maximum(np.asarray(popularity, dtype=np.float64), 0.0)
        if votes.shape != (len(titles),):
            raise ValueError(f"popularity has {votes.size} values for {len(titles)} titles")
        scale = np.log1p(votes.max()) if votes.size and votes.max() > 0 else 1.0
        self._popularity = np.log1p(votes) / scale
        names = _Names.of(titles)
        self._text = "".join(f"{key}|" for key in names.keys)  # "|" ends a name; keys have none
        lengths = np.array([len(key) + 1 for key in names.keys], dtype=np.int64)
        self._name_start = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self._name_end = self._name_start + lengths - 1
        self._name_code = np.asarray(names.codes, dtype=np.int64)
        self._index_word_starts(names)
        self.vocabulary = Vocabulary(names.vocabulary)

    def _index_word_starts(self, names: _Names) -> None:
        """One entry per word of every name, sorted by the text from there to the name's end."""
        starts, owners, anchored = [], [], []
        pairs = zip(names.word_starts, names.articles, strict=True)
        for name, (word_starts, article) in enumerate(pairs):
            base = int(self._name_start[name])
            for index, offset in enumerate(word_starts):
                starts.append(base + offset)
                owners.append(name)
                anchored.append(index == 0 or (index == 1 and article))
        ends = self._name_end[owners].tolist()
        text = self._text
        order = sorted(range(len(starts)), key=lambda i: text[starts[i] : ends[i]])
        self._entry_start = np.asarray(starts, dtype=np.int64)[order]
        self._entry_end = np.asarray(ends, dtype=np.int64)[order]
        self._entry_name = np.asarray(owners, dtype=np.int64)[order]
        self._entry_anchor = np.asarray(anchored, dtype=bool)[order]
        self._word_start = np.zeros(len(self._text) + 1, dtype=bool)
        self._word_start[self._entry_start] = True

    def find(self, text: str, n: int = 20) -> np.ndarray:
        """The codes of up to ``n`` movies matching ``text``, the film most people mean first."""
        return self.find_with_scores(text, n)[0]

    def find_with_scores(self, text: str, n: int = 20) -> tuple[np.ndarray, np.ndarray]:
        """Codes and scores (relevance 0-1 plus half the popularity 0-1), best first; ties go
        to the lower code. An empty or punctuation-only query finds nothing."""
        words = _query_words(text)
        best = np.full(len(self._popularity), -np.inf)
        if words and n > 0:
            self._collect(words, best, n)
        found = np.flatnonzero(best > -np.inf)
        scores = best[found] + POPULARITY_WEIGHT * self._popularity[found]
        order = np.lexsort((found, -scores))[:n]
        return found[order], scores[order]

    def _collect(self, words: list[str], best: np.ndarray, n: int) -> None:
        """Fill ``best[code]`` with each matching movie's best relevance."""
        starting = sum(self._word_start_matches(variant, best) for variant in _numbered(words))
        if not starting and words[0] in _LOWER_ARTICLES and len(words) > 1:
            starting = self._word_start_matches(words[1:], best)  # "the amelie"
        if starting >= n:
            return
        query = "".join(words)
        if len(query) >= MIN_INSIDE:
            self._inside_matches(query, best)
        self._all_words_matches(words, best)
        for corrected, similarity in self._typo_queries(words):
            factor = TYPO_FACTOR * similarity / 100
            self._word_start_matches(corrected, best, factor)
            self._all_words_matches(corrected, best, factor)

    def _entry_range(self, query: str) -> tuple[int, int]:
        """The entries (word starts) whose text from there starts with ``query``."""
        entries = range(len(self._entry_start))
        lo = bisect_left(entries, query, key=self._suffix)
        return lo, bisect_left(entries, query + _END, key=self._suffix, lo=lo)

    def _word_start_matches(self, words: list[str], best: np.ndarray, factor: float = 1.0) -> int:
        """Names with a word starting with the query; returns how many words matched."""
        query = "".join(words)
        lo, hi = self._entry_range(query)
        if hi == lo:
            return 0
        starts = self._entry_start[lo:hi]
        whole = starts + len(query) == self._entry_end[lo:hi]
        tier = np.where(self._entry_anchor[lo:hi], np.where(whole, EXACT, PREFIX), WORD_START)
        tier = np.where(~whole & self._across_words(starts, words), tier - ACROSS_WORDS, tier)
        np.maximum.at(best, self._name_code[self._entry_name[lo:hi]], tier * factor)
        return hi - lo

    def _all_words_matches(self, words: list[str], best: np.ndarray, factor: float = 1.0) -> None:
        """Movies whose names hold every word of a query of several words, in any order and
        in any of the movie's names: "wars star", "amelie fabuleux"."""
        if len(words) < 2:
            return
        looked_up = ([word for word in words if word not in _LOWER_ARTICLES] or words)[
            :MAX_QUERY_WORDS
        ]
        common = np.ones(len(best), dtype=bool)  # a mask, not sets: no sorting of long lists
        for index, word in enumerate(looked_up):
            common &= self._movies_with_word(word, typing=index == len(looked_up) - 1)
            if not common.any():
                return
        best[common] = np.maximum(best[common], ALL_WORDS * factor)

    def _movies_with_word(self, word: str, typing: bool) -> np.ndarray:
        """Which movies have a name with a word starting with ``word``. A number matches
        whole words only, written either way ("2" or "ii", not "iii"), unless it is the word
        being typed ("20" of "2001")."""
        forms = [(word, not typing and word in NUMERALS)]
        if word in NUMERALS:
            forms.append((NUMERALS[word], True))
        found = np.zeros(len(self._popularity), dtype=bool)
        for form, whole_only in forms:
            lo, hi = self._entry_range(form)
            names = self._entry_name[lo:hi]
            if whole_only:
                ends = self._entry_start[lo:hi] + len(form)
                names = names[self._word_start[ends] | (ends == self._entry_end[lo:hi])]
            found[self._name_code[names]] = True
        return found

    def _across_words(self, starts: np.ndarray, words: list[str]) -> np.ndarray:
        """For matches at ``starts``: do the query's words and the title's words part at
        different places? ("toys" over "toy story", "e t" over "eternal")"""
        inside, boundaries, end = [], [], 0  # offsets in the query
        for word in words:
            inside.extend(range(end + 1, end + len(word)))
            end += len(word)
            boundaries.append(end)
        across = np.zeros(len(starts), dtype=bool)
        if inside:  # a title word starts inside a query word
            across |= self._word_start[starts[:, None] + np.asarray(inside)].any(axis=1)
        if len(boundaries) > 1:  # a query word starts inside a title word
            across |= ~self._word_start[starts[:, None] + np.asarray(boundaries[:-1])].all(axis=1)
        return across

    def _suffix(self, entry: int) -> str:
        return self._text[self._entry_start[entry] : self._entry_end[entry]]

    def _inside_matches(self, query: str, best: np.ndarray) -> None:
        """Names containing ``query`` anywhere, inside a word too ("fellas" -> Goodfellas)."""
        hits = islice(re.finditer(re.escape(query), self._text), MAX_INSIDE)
        positions = np.fromiter((hit.start() for hit in hits), dtype=np.int64)
        if positions.size:
            names = np.searchsorted(self._name_start, positions, side="right") - 1
            np.maximum.at(best, self._name_code[names], INSIDE)

    def _typo_queries(self, words: list[str]) -> list[tuple[list[str], float]]:
        """The query with its unknown words replaced by the nearest known words, with the
        lowest similarity of the replacements (0-100): "godfathr" -> "godfather"."""
        options, corrected = [], 0
        for index, word in enumerate(words):
            partial = index == len(words) - 1  # the word being typed
            if (
                len(word) < MIN_TYPO
                or corrected == MAX_TYPO_WORDS
                or self.vocabulary.knows(word, partial)
            ):
                options.append([(word, 100.0)])
            else:
                options.append(self.vocabulary.nearest(word, TYPO_CHOICES) or [(word, 100.0)])
                corrected += 1
        combinations = islice(product(*options), TYPO_CHOICES**2)
        queries = [([w for w, _ in combo], min(s for _, s in combo)) for combo in combinations]
        return [(query, score) for query, score in queries if score < 100]


class Vocabulary:
    """The words of all titles: to tell a known word, and to correct a misspelt one.

    A correction is ranked by rapidfuzz's ratio (0-100, from the edit distance), but only
    among the words that share most of the misspelt word's letter pairs, found in an index of
    pairs, so a vocabulary of 100,000 words is not scanned for each keystroke."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = sorted(set(words))
        self._known = frozenset(self.words)
        pairs, owners = _letter_pairs(self.words)
        order = np.lexsort((owners, pairs))
        pairs, owners = pairs[order], owners[order]
        repeated = np.zeros(len(pairs), dtype=bool)  # a pair twice in one word counts once
        repeated[1:] = (pairs[1:] == pairs[:-1]) & (owners[1:] == owners[:-1])
        pairs, self._owners = pairs[~repeated], owners[~repeated]
        self._pairs, first = np.unique(pairs, return_index=True)
        self._pair_span = np.append(first, len(pairs))

    def knows(self, word: str, partial: bool = False) -> bool:
        """A word of some title; with ``partial``, also the start of one ("stor")."""
        if word in self._known:
            return True
        at = bisect_left(self.words, word)
        return partial and at < len(self.words) and self.words[at].startswith(word)

    def nearest(self, word: str, limit: int) -> list[tuple[str, float]]:
        """Up to ``limit`` known words closest to ``word``, with their ratio, best first."""
        pairs = np.unique(_letter_pairs([word])[0])
        at = np.searchsorted(self._pairs, pairs[np.isin(pairs, self._pairs)])
        if not at.size:
            return []
        owners = np.concatenate(
            [self._owners[self._pair_span[i] : self._pair_span[i + 1]] for i in at]
        )
        shared = np.bincount(owners, minlength=len(self.words))
        # one typo changes at most 3 pairs (a swap of two letters)
        candidates = [self.words[i] for i in np.flatnonzero(shared >= max(1, len(pairs) - 3))]
        found = process.extract(
            word, candidates, scorer=fuzz.ratio, processor=None,
            limit=limit, score_cutoff=TYPO_CUTOFF,
        )  # fmt: skip
        return [(near, score) for near, score, _ in found]


def _letter_pairs(words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each pair of consecutive letters of each word, a word's start counting as a letter
    ("^godfather": "^g", "go", ...), as integers, with the index of its word."""
    text = "".join(f"^{word}" for word in words)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    if codes.size < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = codes == ord("^")
    owners = (np.cumsum(starts) - 1)[1:]
    pairs = (codes[:-1] << 21) | codes[1:]  # a code point has 21 bits
    inside = ~starts[1:]
    return pairs[inside], owners[inside]


@dataclass
class _Names:
    """Every name of every movie (title and alternatives) as a compact key, with its movie
    code, where its words start and whether the first is an article, and all words seen."""

    keys: list[str]
    codes: list[int]
    word_starts: list[list[int]]
    articles: list[bool]
    vocabulary: set[str]

    @classmethod
    def of(cls, titles: Sequence[str]) -> _Names:
        names = cls([], [], [], [], set())
        for code, title in enumerate(titles):
            parts = split_title(title)
            for name in (parts.name, *parts.alternatives):
                words = search_words(name)
                if words:
                    names.add(code, words)
        return names

    def add(self, code: int, words: list[str]) -> None:
        self.vocabulary.update(words)
        self.keys.append("".join(words))
        self.codes.append(code)
        self.word_starts.append(list(accumulate((len(word) for word in words[:-1]), initial=0)))
        # "the godfather" is matched whole from "the" and from "godfather"
        self.articles.append(len(words) > 1 and words[0] in _LOWER_ARTICLES)


def _numbered(words: list[str]) -> list[list[str]]:
    """The query, and when it has numbers, the query with them written the other way
    ("rocky 2" -> "rocky ii", "alien iii" -> "alien 3")."""
    other = [NUMERALS.get(word, word) for word in words]
    return [words, other] if other != words else [words]


def _query_words(text: str) -> list[str]:
    """The query's words, a trailing article put back in front: "godfather, the"."""
    head, comma, last = normalize_text(text).rpartition(",")
    if comma and last.strip() in _LOWER_ARTICLES:
        text = f"{last} {head}"
    return search_words(text)
