"""Small shared helpers: paths, command-line checks, seeding and determinism, device choice, atomic file writes.

Introduced in: notebooks/00_getting_started.ipynb
"""
from __future__ import annotations

import argparse
import contextlib
import os
import random
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np

if TYPE_CHECKING:  # for the annotations only: importing this module loads no torch
    import torch


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """Return the course repository root: the first folder above ``start`` holding ``pyproject.toml``.

    Notebooks resolve every relative path from here, never from the kernel's working directory
    (papermill starts the kernel in the caller's folder, nbval in the notebook's folder).
    Falls back to the current directory when neither ``start`` nor the package is inside the repository (an
    installed package must never write next to its own code in site-packages).
    """
    candidates = [Path(start or Path.cwd()).resolve(), Path(__file__).resolve().parent]
    for base in candidates:
        for folder in (base, *base.parents):
            if (folder / "pyproject.toml").is_file() and (folder / "asd_utils").is_dir():
                return folder
    return Path.cwd().resolve()


def resolve_path(path: str | os.PathLike) -> Path:
    """An absolute path: ``path`` itself if absolute, else relative to :func:`repo_root`."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else repo_root() / p


def cli_path(path: str | os.PathLike) -> Path:
    """A command-line path as every CLI reads it: ``~`` expanded, relative paths from the current directory.

    (Notebooks use :func:`resolve_path` instead: their kernel's working directory depends on who started it.)
    """
    return Path(path).expanduser().resolve()


def _int_at_least(text: str, low: int, what: str) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = low - 1
    if value < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """``argparse`` type for seeds and counts; argparse puts the flag's name in front of the message."""
    return _int_at_least(text, 0, "a non-negative integer")


def positive_int(text: str) -> int:
    """``argparse`` type for worker counts and the like (>= 1)."""
    return _int_at_least(text, 1, "an integer >= 1")


def positive_seconds(text: str) -> float:
    """``argparse`` type for timeouts: a finite number of seconds > 0 (``nan`` and ``inf`` are refused by name)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = float("nan")
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a positive, finite number of seconds, got {text!r}")
    return value


def writable_dir(path: str | os.PathLike, flag: str) -> Path:
    """Check, before any work starts, that folder ``path`` can be created or written to; return it (not created).

    Raises ``ValueError`` naming ``flag``, the path and the fix when it or a parent is a file or not writable, so a
    long run never fails at its last step and a refused run leaves no empty folders behind.
    """
    path = Path(path)
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise ValueError(f"{flag} {path}: {existing} is a file, expected a folder; choose another {flag}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {path}: {existing} is not writable; choose a folder you can write to with {flag}")
    return path


#: Environment variable that sets the CPU thread count of PyTorch (default :data:`DEFAULT_CPU_THREADS`; 0 leaves
#: PyTorch's own choice, usually one thread per core).
THREADS_ENV = "ASD_NUM_THREADS"
DEFAULT_CPU_THREADS = 2


def configure_determinism() -> int:
    """Make PyTorch runs repeatable: a fixed CPU thread count and deterministic kernels. Returns the thread count.

    The thread count changes how float sums are split, hence the last bits of every result, so it is fixed
    (``ASD_NUM_THREADS``, default 2) instead of following the machine's core count. Called by :func:`set_seed`.
    """
    import torch

    text = os.environ.get(THREADS_ENV, str(DEFAULT_CPU_THREADS)).strip()
    try:
        threads = int(text)
        if threads < 0:
            raise ValueError
    except ValueError:
        raise ValueError(f"environment variable {THREADS_ENV}={text!r}: expected a non-negative integer "
                         f"(0 = PyTorch's default)") from None
    if threads:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    return torch.get_num_threads()


def display_path(path: str | os.PathLike) -> str:
    """``path`` for messages: relative to the repository root when inside it (posix), else absolute."""
    path = Path(path).resolve()
    try:
        return path.relative_to(repo_root()).as_posix()
    except ValueError:
        return str(path)


def set_seed(seed: int) -> None:
    """Seed ``random``, NumPy and PyTorch, and make PyTorch deterministic (:func:`configure_determinism`)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # the synthetic data and metrics work without torch
        return
    torch.manual_seed(seed)
    configure_determinism()


def show_code(obj) -> None:
    """Print the source of a function or method without its docstring (the notebooks show the code, the package keeps
    the docstrings)."""
    import inspect

    quotes = '"' * 3
    source = inspect.getsource(obj)
    head, _, rest = source.partition(quotes)
    if obj.__doc__ and rest:
        source = head.rstrip(" ") + rest.partition(quotes)[2].lstrip("\n")
    print(source)


def answered(number: int, *answers, note: str = "") -> bool:
    """Whether exercise ``number`` has every answer filled in; if not, says so (the notebooks' exercise checks call
    this first, so an exercise left as ``None`` prints "not answered yet" instead of failing), with ``note`` in
    brackets after it (e.g. ``"synthetic data only"``).

    Introduced in: notebooks/00_getting_started.ipynb
    """
    if any(answer is None for answer in answers):
        print(f"Exercise {number}: not answered yet" + (f" ({note})" if note else ""))
        return False
    return True


def progress_bars_wanted() -> bool:
    """Whether to show progress bars: not when the environment sets ``TQDM_DISABLE`` (headless runs: papermill,
    nbval). tqdm's notebook bars ignore that variable by themselves, so every bar asks here first."""
    return os.environ.get("TQDM_DISABLE", "").lower() not in ("1", "true", "yes")


def resolve_device(device: str = "auto") -> "torch.device":
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"`` into a ``torch.device``.

    ``"auto"`` picks CUDA when available, else CPU. Asking for a device that is not there is an error.
    """
    import torch

    name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was requested but no CUDA GPU is available; use 'auto' or 'cpu'")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' was requested but Apple MPS is not available; use 'auto' or 'cpu'")
    try:
        return torch.device(name)
    except RuntimeError as err:
        raise ValueError(f"unknown device {device!r}; expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from err


@contextlib.contextmanager
def atomic_path(final_path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``final_path``; rename it into place only if the block succeeds.

    Readers never see a half-written file under the final name, and a failed write leaves nothing behind.
    """
    final_path = Path(final_path)
    final_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final_path.name}.", suffix=".part", dir=final_path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp creates 0600; the final file gets the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, final_path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
