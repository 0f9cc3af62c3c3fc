"""The evaluation's former command name: ``python -m recommender.evaluate`` runs
``python -m recommender.evaluation`` (see ``recommender.evaluation``)."""

import sys

from recommender.evaluation.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
