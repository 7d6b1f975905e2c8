"""Claims: the sentences of a notebook's prose that state a result of its own run, checked against that run.

A notebook that writes "id_04 comes out lowest" or "STgramNet's Eq. 1 beats the autoencoder" follows the output it
reads with a cell like::

    check_claims({
        "id_04 has the lowest AUC of every autoencoder": (aucs.idxmin(axis=1) == "id_04").all(),
        "STgramNet's Eq. 1 beats the DCASE AE": beats(stgram_eq1, dcase_ae),
    }, strict=STRICT_CLAIMS)

Each claim prints with a tick or a cross. On the configuration the stored outputs come from (the ``course`` profile,
the default synthetic data, training seed 0) and when ``ASD_STRICT_CLAIMS=1`` is set (``make notebooks``,
``make test``), a false claim raises :class:`ClaimError`: the prose no longer describes the run and must be rewritten.
Anywhere else (your own data, another profile or seed, a GPU run without the variable) a false claim is only
printed: the prose describes the course's stored run, and a different result on other data is a finding, not a bug.

Orders are checked with a margin: two AUCs closer than :data:`NOISE_AUC` are a tie (the prose says so and checks it
with :func:`ties`), because differences that small move between runs and machines. A single training run of a
network on raw waveforms (STgramNet, SepSTgramNet) moves more than that when it is repeated on another machine (its
float rounding differs, and training amplifies it): a number of such a run is quoted with
:data:`TRAINING_NOISE_AUC` as its tolerance, and an order between two such numbers needs that margin or is told as a
tie; orders that matter are read from several generator seeds (``benchmarks/results/seeds.csv``) instead.

Introduced in: notebooks/01_data_exploration.ipynb
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping

from .profiles import default_data_root
from .utils import resolve_path

# Two mean AUCs closer than this are a tie: about one bootstrap standard error of a dev-set mean AUC on the course
# profile, and well above the spread between re-runs of the same notebook.
NOISE_AUC = 0.02
# How far one training run of a waveform classifier's mean AUC may move when the same notebook is re-run on another
# machine (compare the stored outputs with a CI re-execution); per id and per fault type it moves more.
TRAINING_NOISE_AUC = 0.05
STRICT_ENV = "ASD_STRICT_CLAIMS"


class ClaimError(AssertionError):
    """A sentence of a notebook's prose is false on the run it describes."""


def strict_claims(profile: str, data_root, seed: int = 0) -> bool:
    """Whether false claims raise on this run: the stored outputs' configuration (``course`` profile, the default
    synthetic course data, training seed 0) with ``ASD_STRICT_CLAIMS=1`` in the environment."""
    if os.environ.get(STRICT_ENV, "") != "1":
        return False
    return (profile == "course" and int(seed) == 0
            and resolve_path(data_root) == resolve_path(default_data_root("course", 0)))


def beats(a: float, b: float, margin: float = NOISE_AUC) -> bool:
    """``a`` is higher than ``b`` by more than ``margin`` (an order that survives run-to-run noise)."""
    return _finite(a, b) and float(a) - float(b) > margin


def ties(a: float, b: float, margin: float = NOISE_AUC) -> bool:
    """``a`` and ``b`` differ by at most ``margin`` (neither may be said to beat the other)."""
    return _finite(a, b) and abs(float(a) - float(b)) <= margin


def about(value: float, stated: float, tolerance: float = 0.01) -> bool:
    """A rounded number of the prose (``stated``, "about 0.92") describes the run's ``value`` (False when missing)."""
    return ties(value, stated, margin=tolerance)


def _finite(*values) -> bool:
    return all(value is not None and math.isfinite(float(value)) for value in values)


def check_claims(claims: Mapping[str, object], strict: bool) -> None:
    """Print each claim with ✓ (true) or ✗ (false); raise :class:`ClaimError` naming the false ones when ``strict``
    (see :func:`strict_claims`). A claim's value is anything ``bool()`` accepts. Returns nothing, so that a notebook
    cell ending with the call shows only the printed claims."""
    if not claims:
        raise ValueError("check_claims needs at least one claim")
    false = []
    for sentence, value in claims.items():
        holds = bool(value)
        print(f"{'✓' if holds else '✗'} {sentence}")
        if not holds:
            false.append(sentence)
    if false and strict:
        raise ClaimError(f"{len(false)} claim(s) of the prose are false on the run they describe: "
                         + "; ".join(repr(s) for s in false)
                         + ". Rewrite the prose (and its check) from the outputs above")
    if false:
        print(f"({len(false)} claim(s) of the prose do not hold on this run: the prose describes the course's stored "
              "run, on the course profile and its synthetic data)")
