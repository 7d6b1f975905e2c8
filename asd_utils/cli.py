"""Command line: ``python -m asd_utils COMMAND [options]`` (``--help`` on any command lists its options).

Commands:
  synth       generate the synthetic slide-rail dataset (DCASE layout)
  run         run the whole course headlessly (papermill) and print a results summary
  regenerate  re-execute the notebooks in place to refresh their stored outputs (course profile)
  score       score a folder of DCASE-layout clips with a saved model and write submission CSVs
  download    download the real DCASE 2020 Task 2 data (needs internet)
  set-repo    point the Colab badges and set-up cells at a fork (GitHub OWNER/NAME)
  convert     write a 16 kHz mono copy of own recordings in the DCASE layout (resample, downmix)
  readme-tables  rewrite the README's results tables from the committed results files (--check: only compare)
"""
from __future__ import annotations

import importlib
import sys

# command -> (module, function taking argv and returning an exit code); imported lazily so `--help` is fast
COMMANDS = {
    "synth": ("asd_utils.synth", "synth_main"),
    "run": ("asd_utils.runner", "run_main"),
    "regenerate": ("asd_utils.runner", "regenerate_main"),
    "score": ("asd_utils.submission", "score_main"),
    "download": ("asd_utils.download", "download_main"),
    "set-repo": ("asd_utils.colab", "set_repo_main"),
    "convert": ("asd_utils.convert", "convert_main"),
    "readme-tables": ("asd_utils.readme_tables", "readme_tables_main"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"unknown command {command!r}; expected one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module_name, function_name = COMMANDS[command]
    function = getattr(importlib.import_module(module_name), function_name)
    try:
        return int(function(rest) or 0)
    except (OSError, ValueError) as err:  # last line of defence: a message naming the file, never a traceback
        print(f"python -m asd_utils {command}: error: {err}", file=sys.stderr)
        return 1
