"""A profile file's JSON, read strictly (``app.profile_files`` reads the profile in it): not
too deep, no huge numbers, no NaN or Infinity, no key twice in one object."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

MAX_JSON_DEPTH = 16  # a profile nests 4 deep: document, movies, a movie, its genres
MAX_NUMBER_CHARS = 32  # ids and ratings; a 5,000-digit number is not either


class ProfileError(ValueError):
    """An uploaded profile cannot be used; the message says what is wrong and where."""


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters (with "…"): a message quotes a value, not a page."""
    return text if len(text) <= limit else text[:limit] + "…"


def strict_json(text: str, filename: str) -> Any:
    """A profile's JSON, parsed strictly: not too deep, no huge numbers, no NaN or Infinity
    (Python writes them, JSON has none), no key twice in one object (the last would win)."""
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ProfileError(
            f"{filename} nests {depth:,} levels deep; a profile nests 4 (at most "
            f"{MAX_JSON_DEPTH}): download a profile from this app to see the layout"
        )

    def number(text: str) -> int | float:
        if len(text) > MAX_NUMBER_CHARS:
            raise ProfileError(
                f"{filename} holds a number of {len(text):,} characters ({shorten(text, 20)}); "
                f"a profile's numbers are ids and ratings, at most {MAX_NUMBER_CHARS} characters"
            )
        return float(text) if any(c in text for c in ".eE") else int(text)

    def constant(name: str) -> float:  # NaN, Infinity: not JSON, though Python writes them
        raise ProfileError(f"{filename} holds {name}, which is not a number in JSON")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for key, value in pairs:
            if key in document:  # json.loads would keep the last one without a word
                raise ProfileError(f"{filename} gives {shorten(repr(key), 40)} twice in one object")
            document[key] = value
        return document

    try:
        document = json.loads(
            text,
            parse_int=number,
            parse_float=number,
            parse_constant=constant,
            object_pairs_hook=unique,
        )
    except json.JSONDecodeError as error:
        raise ProfileError(
            f"{filename} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:  # the depth check above should make this unreachable
        raise ProfileError(f"{filename} nests too deep for a profile") from None
    return document


def json_depth(text: str) -> int:
    """How deep the brackets of a JSON text nest, outside its strings (without parsing it:
    a 0.4 MB document 200,000 levels deep would exhaust the parser's recursion)."""
    outside_strings = _JSON_STRING.sub("", text).encode("utf-8")
    codes = np.frombuffer(outside_strings, dtype=np.uint8)
    steps = np.isin(codes, _OPENING).astype(np.int64) - np.isin(codes, _CLOSING)
    return int(np.cumsum(steps).max(initial=0))


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_OPENING = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSING = np.frombuffer(b"]}", dtype=np.uint8)
