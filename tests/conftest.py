import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TQDM_DISABLE", "1")
sys.path.insert(0, str(Path(__file__).parent))  # makes tests/helpers.py importable


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Tests run torch on one thread (module fixtures that train included): they push tiny batches, and on a busy
    2-core machine two threads that wait for each other at every operation can be ten times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def torch_threads(request, one_torch_thread):
    """``@pytest.mark.torch_threads(n)`` runs a test with ``n`` threads; afterwards the count is one again, so no
    test depends on the order tests run in."""
    import torch

    marker = request.node.get_closest_marker("torch_threads")
    torch.set_num_threads(marker.args[0] if marker else 1)
    yield
    torch.set_num_threads(1)
