"""``python -m asd_utils ...``: see :mod:`asd_utils.cli`."""
import sys

from .cli import main

sys.exit(main())
