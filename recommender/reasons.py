"""Which words explain each result of a list: what is specific to that row.

Every scorer offers a reason per result (or None: nothing honest to say), see
``Scorer.reasons``. A row is explained by the scorer that contributed most to its score, unless
that scorer's reason was already given higher up the list: then by the next strongest scorer
whose reason is new (among those that added at least a quarter as much), so that one profile
movie does not explain most of the list ("people who liked Alien liked it" ten times says
nothing about any one film). When every reason a row has
was already said, the strongest is repeated: a true reason beats none. Any scorer takes part,
with no change here: a series scorer's "next in the Toy Story series" is new on every row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# A scorer explains a row in the strongest one's place only if it added at least this share of
# what the strongest added: a minor signal's reason is true but not why the film is here.
ENOUGH = 0.25


def pick_reasons(
    said: Mapping[str, Sequence[str | None]],
    contributions: Mapping[str, np.ndarray],
    first: Sequence[str] = (),
) -> list[str]:
    """One reason per row: ``said`` maps scorer names to their reason per row,
    ``contributions`` to how much each added to each row's score (weight x part). A scorer in
    ``first`` (``Scorer.reason_first``: the series) explains every row it has a reason for."""
    rows = len(next(iter(contributions.values()), ()))
    given: set[str] = set()
    chosen = []
    for row in range(rows):
        strongest = sorted(said, key=lambda name: -float(contributions[name][row]))
        top = float(contributions[strongest[0]][row]) if strongest else 0.0
        offered = [
            said[name][row]
            for name in strongest
            if said[name][row] and float(contributions[name][row]) >= ENOUGH * top
        ]
        reason = next((said[name][row] for name in first if said[name][row]), None) or next(
            (text for text in offered if text not in given), offered[0] if offered else ""
        )
        given.add(reason)
        chosen.append(reason)
    return chosen
