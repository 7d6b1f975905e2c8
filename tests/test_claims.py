"""asd_utils.claims, and the rule that keeps the notebooks' prose bound to their outputs: a section whose prose states
a result of the run (a number, an order, "hardest", "faster", "flattens") checks it with ``check_claims``, and no
stored claims output shows a false claim."""
from __future__ import annotations

import json
import re

import pytest

from asd_utils import claims, profiles
from asd_utils.runner import list_notebooks

# Words and numbers that state a result of the run (an order, a superlative, a trend, an AUC-like figure).
RESULT_WORDS = re.compile(
    r"\b(beats?|beaten|outperforms?|wins?|loses?|trails?|hardest|easiest|lowest|highest|best|worst|faster|slower|"
    r"higher than|lower than|better than|worse than|more than|less than|flatten\w*|below chance|above chance|"
    r"drops?|falls?|rises?|weak(er|est)?|strong(er|est)|larger|smaller|\d+(\.\d+)? ?x|\d+(\.\d+)? ?%|0\.\d{2,3})\b", re.I)
# A section may state that its result words are not claims about this run (the reports' numbers, a definition).
NO_CLAIMS_MARK = "<!-- no run claims:"
CHECK_CALL = "check_claims("
SKIPPED_SECTIONS = re.compile(r"^#+\s*(exercises?\b|exercise \d|appendix|further reading)", re.I)


def test_check_claims_prints_ticks_and_counts(capsys):
    assert claims.check_claims({"a holds": True, "b fails": 0}, strict=False) is None
    out = capsys.readouterr().out
    assert "✓ a holds" in out and "✗ b fails" in out and "1 claim(s) of the prose do not hold on this run" in out


def test_check_claims_raises_naming_the_false_claim_when_strict():
    with pytest.raises(claims.ClaimError, match="'id_04 is lowest'"):
        claims.check_claims({"fine": True, "id_04 is lowest": False}, strict=True)
    claims.check_claims({"fine": True}, strict=True)
    with pytest.raises(ValueError):
        claims.check_claims({}, strict=False)


def test_beats_and_ties_use_the_noise_margin():
    assert claims.beats(0.90, 0.85) and not claims.beats(0.86, 0.85) and not claims.beats(0.85, 0.90)
    assert claims.ties(0.86, 0.85) and not claims.ties(0.90, 0.85)
    assert not claims.beats(float("nan"), 0.5) and not claims.ties(None, 0.5)
    assert claims.beats(0.52, 0.5, margin=0.01)
    assert claims.about(0.925, 0.92) and not claims.about(0.935, 0.92) and claims.about(0.932, 0.92, tolerance=0.015)
    assert not claims.about(None, 0.92)


def test_claims_are_strict_only_on_the_stored_run_configuration(monkeypatch):
    root = profiles.default_data_root("course", 0)
    monkeypatch.delenv(claims.STRICT_ENV, raising=False)
    assert not claims.strict_claims("course", root)
    monkeypatch.setenv(claims.STRICT_ENV, "1")
    assert claims.strict_claims("course", root)
    assert not claims.strict_claims("tiny", root)
    assert not claims.strict_claims("course", "data/dcase2020")
    assert not claims.strict_claims("course", root, seed=1)


def _sections(notebook: dict) -> list[tuple[str, list[dict]]]:
    """The notebook's cells grouped under their last markdown heading (any level)."""
    sections, title, cells = [], "(top)", []
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        heading = next((line for line in text.splitlines() if line.startswith("#")), None)
        if cell["cell_type"] == "markdown" and heading is not None:
            sections.append((title, cells))
            title, cells = heading, []
        cells.append(cell)
    return sections + [(title, cells)]


def sections_without_checks(notebook: dict) -> list[str]:
    """Headings of sections that run code and whose prose uses result words, but call no ``check_claims``."""
    missing = []
    for title, cells in _sections(notebook):
        if SKIPPED_SECTIONS.match(title):
            continue
        prose = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        has_outputs = any(c.get("outputs") for c in cells if c["cell_type"] == "code")
        if (has_outputs and RESULT_WORDS.search(re.sub(r"<!--.*?-->", "", prose, flags=re.S))
                and CHECK_CALL not in code and NO_CLAIMS_MARK not in prose):
            missing.append(title)
    return missing


def _notebook(cells):
    return {"cells": [{"cell_type": kind, "source": [text], **({"outputs": [{"text": "x"}]} if kind == "code" else {})}
                      for kind, text in cells]}


def test_sections_without_checks_finds_unchecked_results():
    unchecked = _notebook([("markdown", "## Results\nid_04 is the hardest id."), ("code", "print(table)")])
    checked = _notebook([("markdown", "## Results\nid_04 is the hardest id."), ("code", "check_claims({...})")])
    marked = _notebook([("markdown", "## Report\nTeam 42 reports 0.943. <!-- no run claims: the report's -->"),
                        ("code", "print(1)")])
    assert sections_without_checks(unchecked) == ["## Results"]
    assert sections_without_checks(checked) == [] and sections_without_checks(marked) == []


@pytest.mark.parametrize("path", list_notebooks(), ids=lambda p: p.stem)
def test_every_result_section_checks_its_claims(path):
    missing = sections_without_checks(json.loads(path.read_text()))
    assert not missing, (f"{path.name}: these sections state results in their prose but check none with "
                         f"check_claims (or mark '{NO_CLAIMS_MARK} why -->'): {missing}")


@pytest.mark.parametrize("path", list_notebooks(), ids=lambda p: p.stem)
def test_stored_outputs_show_no_false_claim(path):
    notebook = json.loads(path.read_text())
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code" or CHECK_CALL not in "".join(cell["source"]):
            continue
        text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
        assert "✓" in text, f"{path.name} cell {index}: check_claims has no stored output (run make notebooks)"
        assert "✗" not in text, f"{path.name} cell {index}: a stored claim is false:\n{text}"
