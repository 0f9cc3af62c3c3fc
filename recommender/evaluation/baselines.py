"""Reference models computed in the harness: EASE and the rating bias baseline."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

EASE_MEMORY_BYTES = 2 * 2**30  # above this EASE's dense matrices do not fit: it is left out

BIAS_DAMPING = 5.0  # of the bias baseline: a movie with few ratings keeps close to the mean


class Ease:
    """EASE (Steck 2019): B = I - P diag(1/diag(P)), P = (X^T X + lambda I)^-1, X binarised.

    With fewer users than movies the same P comes from the users x users matrix (Woodbury):
    P = (I - X^T (X X^T + lambda I)^-1 X) / lambda, so no movies x movies matrix is needed;
    a user's scores are x B = x - (x P) / diag(P).
    """

    def __init__(self, ratings: sp.csr_matrix, lam: float):
        x = ratings.copy().astype(np.float64)
        x.data[:] = 1.0
        self.lam = lam
        self._dual = x.shape[0] < x.shape[1]
        if self._dual:
            gram = (x @ x.T).toarray() + lam * np.eye(x.shape[0])
            self._x = x.tocsc()
            self._a = np.linalg.solve(gram, x.toarray())  # users x movies: (XX^T + lI)^-1 X
            diag = 1.0 - np.asarray(x.multiply(self._a).sum(axis=0)).ravel()
            self._diag = diag / lam
        else:
            p = np.linalg.inv((x.T @ x).toarray() + lam * np.eye(x.shape[1]))
            self._p, self._diag = p, np.diag(p).copy()

    @staticmethod
    def fits(shape: tuple[int, int]) -> bool:
        """Whether EASE's dense matrices fit in ``EASE_MEMORY_BYTES`` for a users x movies shape."""
        users, movies = shape
        needed = 8 * (users * movies + users**2) if users < movies else 8 * 2 * movies**2
        return needed <= EASE_MEMORY_BYTES

    def scores(self, codes: np.ndarray) -> np.ndarray:
        """Scores of every movie for a user who liked the movies ``codes``."""
        x = np.zeros(len(self._diag))
        x[codes] = 1.0
        if self._dual:
            counts = np.asarray(self._x[:, codes].sum(axis=1)).ravel()  # x X^T
            xp = (x - counts @ self._a) / self.lam
        else:
            xp = self._p[codes].sum(axis=0)
        return x - xp / self._diag


def bias_baseline(ratings: sp.csr_matrix, damping: float = BIAS_DAMPING):
    """Global mean + damped item bias + damped user bias; returns predict(rows, cols)."""
    coo = ratings.tocoo()
    mean = float(coo.data.mean())
    residual = coo.data - mean
    item_count = np.bincount(coo.col, minlength=ratings.shape[1])
    item_bias = np.bincount(coo.col, residual, ratings.shape[1]) / (item_count + damping)
    residual = residual - item_bias[coo.col]
    user_count = np.bincount(coo.row, minlength=ratings.shape[0])
    user_bias = np.bincount(coo.row, residual, ratings.shape[0]) / (user_count + damping)

    def predict(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return mean + item_bias[cols] + user_bias[rows]

    return predict
