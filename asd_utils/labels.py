"""Label files, parsed and validated in one place: DCASE's ground truth and the per-id submission (score) CSVs.

A label file that is almost right is the most dangerous input of the course: a duplicated row, a label 0.9 or a
score of another machine id changes an AUC without any error. So every row is checked, and a file with a bad row
is refused with the file, the line numbers, the value and the fix; nothing is guessed, truncated or taken last-wins.

* :func:`read_ground_truth` - ``eval_data_list.csv``: a line with a machine type, then ``file_name[,original_name],
  label`` lines for it. Labels are exactly 0 or 1, each file is listed once, names are DCASE clip names.
* :func:`read_score_file` - ``anomaly_score_<type>_id_XX.csv``: ``file_name,score`` lines, no header, each clip of
  that id once, every score a finite number.

Introduced in: notebooks/07_results_and_submission.ipynb
"""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pandas as pd

from .data import DatasetError, parse_file_name, read_text_file

_HEADER_WORDS = {"file_name", "filename", "file", "name"}
_SHOWN = 3  # problems quoted in one message (the count says how many there are)


def _refuse(path: Path, problems: list[str], fix: str) -> None:
    if problems:
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        raise DatasetError(f"{path}: {len(problems)} bad row(s): {'; '.join(problems[:_SHOWN])}{more}. {fix}")


def _label(text: str) -> int | None:
    """0 or 1 for the texts '0', '1', '0.0', '1.0' ...; None for anything else (0.9, 2, -1, 'yes')."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value in (0.0, 1.0) else None


def _rows(path: Path):
    """``(line number, stripped non-empty cells)`` of a CSV read as UTF-8 (a clear error when it is not text)."""
    for line_no, row in enumerate(csv.reader(read_text_file(path).splitlines()), start=1):
        cells = [cell.strip() for cell in row]
        while cells and not cells[-1]:
            cells.pop()  # a trailing comma is common in hand-made files
        if cells:
            yield line_no, cells


def read_ground_truth(csv_path: str | Path, machine_type: str) -> dict[str, int]:
    """``{test file name: 0 (normal) or 1 (anomaly)}`` of ``machine_type`` from a DCASE ``eval_data_list.csv``.

    Refused with a :class:`~asd_utils.data.DatasetError` naming the rows: a label other than 0/1, a file listed twice
    (even with the same label), a name that is not a DCASE clip name, a labelled name whose label contradicts the
    column, a row before the first machine-type line, and a file without a section for ``machine_type``.
    """
    path = Path(csv_path)
    labels: dict[str, int] = {}
    first_line: dict[str, int] = {}
    sections: list[str] = []
    problems: list[str] = []
    current = None
    for line_no, cells in _rows(path):
        if len(cells) == 1:
            current = cells[0]
            sections.append(current)
            continue
        if cells[0].lower() in _HEADER_WORDS:
            continue  # a header line such as "file_name,original_name,label"
        if current is None:
            problems.append(f"line {line_no} {','.join(cells)!r} comes before any machine-type line")
            continue
        if current != machine_type:
            continue
        name, label = cells[0], _label(cells[-1])
        if len(cells) > 3:
            problems.append(f"line {line_no} has {len(cells)} cells, expected file_name[,original_name],label")
            continue
        try:
            parsed = parse_file_name(name)
        except DatasetError:
            problems.append(f"line {line_no}: {name!r} is not a DCASE clip name")
            continue
        if label is None:
            problems.append(f"line {line_no}: label {cells[-1]!r} of {name}, expected exactly 0 (normal) or 1 "
                            "(anomaly)")
        elif parsed["label"] is not None and label != (parsed["label"] == "anomaly"):
            problems.append(f"line {line_no}: {name} is labelled {label} but its name says {parsed['label']}")
        elif name in labels:
            problems.append(f"line {line_no}: {name} is listed again (first on line {first_line[name]}"
                            + (f" with label {labels[name]}, here {label})" if labels[name] != label else ")"))
        else:
            labels[name], first_line[name] = label, line_no
    _refuse(path, problems, "Each test clip must be listed once with the label 0 or 1: correct these rows, or "
                            "restore the file (DCASE's eval_data_list.csv is on Zenodo, record 3951620)")
    if not labels:
        found = ", ".join(dict.fromkeys(sections)) or "none"
        raise DatasetError(f"{path}: no ground truth for machine type {machine_type!r} (machine-type lines found: "
                           f"{found}); the section starts with a line holding just {machine_type!r}. Restore the "
                           "file, or delete it to work without evaluation labels")
    return labels


_SCORE_FILE = re.compile(r"^anomaly_score_(?P<type>.+)_(?P<id>id_\d{2})\.csv$")


def score_file_id(path: str | Path) -> str | None:
    """The machine id in a DCASE submission file name ``anomaly_score_<type>_id_XX.csv`` (None for other names)."""
    match = _SCORE_FILE.match(Path(path).name)
    return match.group("id") if match else None


def read_score_file(path: str | Path) -> pd.DataFrame:
    """One DCASE submission file as a table ``file_name, machine_id, score`` (in file order).

    Every line is ``<clip of this file's id>,<finite score>``; an empty file, a header, another id's clip, a clip
    listed twice, a missing or non-finite score are refused with the line numbers.
    """
    path = Path(path)
    machine_id = score_file_id(path)
    if machine_id is None:
        raise DatasetError(f"{path}: not a DCASE submission file name; expected anomaly_score_<type>_id_XX.csv")
    names, scores, problems, seen = [], [], [], {}
    for line_no, cells in _rows(path):
        if len(cells) != 2:
            problems.append(f"line {line_no} has {len(cells)} cell(s), expected 'file_name,score'")
            continue
        name, text = cells
        try:
            parsed = parse_file_name(name)
        except DatasetError:
            problems.append(f"line {line_no}: {name!r} is not a DCASE clip name")
            continue
        try:
            score = float(text)
        except ValueError:
            score = math.nan
        if parsed["machine_id"] != machine_id:
            problems.append(f"line {line_no}: {name} is a clip of {parsed['machine_id']}, but this is the file of "
                            f"{machine_id}")
        elif not math.isfinite(score):
            problems.append(f"line {line_no}: the score of {name} is {text!r}, expected a finite number")
        elif name in seen:
            problems.append(f"line {line_no}: {name} is scored again (first on line {seen[name]})")
        else:
            seen[name] = line_no
            names.append(name)
            scores.append(score)
    _refuse(path, problems, f"Each test clip of {machine_id} must have exactly one line 'file_name,score' in its "
                            "own id's file: write the submission again (asd_utils.submission.write_dcase_submission)")
    if not names:
        raise DatasetError(f"{path}: empty; expected one line 'file_name,score' per test clip of {machine_id}. "
                           "Write the submission again, or delete the file if that id is not part of it")
    return pd.DataFrame({"file_name": names, "machine_id": machine_id, "score": scores})
