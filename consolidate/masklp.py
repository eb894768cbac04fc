"""The attacker's linear programs (HiGHS): the least and largest value a hidden small count can
take."""

from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple

from .boardmodel import Key, Mark

_EPS = 1e-6


class Sum(NamedTuple):
    """total = Σ parts, or Σ parts ≤ total (`at_most`)."""

    total: Key
    parts: tuple[Key, ...]
    at_most: bool = False


class Solver:
    """Linear programs with HiGHS (highspy): the smallest and largest value a hidden cell can
    take."""

    def __init__(self) -> None:
        self.highs: Any = None

    def _start(self) -> Any:
        import highspy

        # HiGHS prints a banner on stdout when it is created; the tool's stdout may be --json.
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                make: Any = highspy.Highs  # untyped
                highs = make()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        highs.setOptionValue("output_flag", False)
        return highs

    def first_leak(self, small: list[Key], variables: list[Key], sums: list[Sum],
                   values: dict[Key, float], marks: dict[Key, Mark], limit: int) -> Key | None:
        """The first "<limit" cell whose range the published figures narrow, or None."""
        import highspy
        import numpy as np

        if not sums:
            return None  # nothing published ties these cells to anything
        if self.highs is None:
            self.highs = self._start()
        h = self.highs
        h.clearModel()
        index = {k: i for i, k in enumerate(variables)}
        n = len(variables)
        inf = highspy.kHighsInf
        small_set = set(small)
        h.addVars(n, np.array([1.0 if k in small_set else 0.0 for k in variables]),
                  np.array([float(limit - 1) if k in small_set else inf for k in variables]))
        for tot, parts, at_most in sums:
            coefs: dict[int, float] = {}
            constant = 0.0
            for coef, k in ((1.0, tot), *((-1.0, p) for p in parts)):
                if k in index:
                    coefs[index[k]] = coefs.get(index[k], 0.0) + coef
                else:
                    constant += coef * values[k]
            if coefs:  # total − Σ parts = 0, or ≥ 0 when the parts are at most the total
                h.addRow(-constant, inf if at_most else -constant, len(coefs),
                         np.array(list(coefs), dtype=np.int32), np.array(list(coefs.values())))
        everything = np.arange(n, dtype=np.int32)
        for key in small:
            cost = np.zeros(n)
            cost[index[key]] = 1.0
            h.changeColsCost(n, everything, cost)
            for sense, wanted in ((highspy.ObjSense.kMinimize, 1.0),
                                  (highspy.ObjSense.kMaximize, limit - 1.0)):
                h.changeObjectiveSense(sense)
                h.run()
                status = h.getModelStatus()
                if status == highspy.HighsModelStatus.kUnbounded:
                    continue
                if status != highspy.HighsModelStatus.kOptimal:
                    return key  # contradicting figures: protect by hiding more
                if abs(h.getInfo().objective_function_value - wanted) > _EPS:
                    return key
        return None
