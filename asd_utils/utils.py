"""Small shared helpers: repository paths, seeding, device choice and atomic file writes.

Introduced in: notebooks/00_getting_started.ipynb
"""
from __future__ import annotations

import contextlib
import os
import random
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np


def repo_root(start: str | os.PathLike | None = None) -> Path:
    """Return the course repository root: the first folder above ``start`` holding ``pyproject.toml``.

    Notebooks resolve every relative path from here, never from the kernel's working directory
    (papermill starts the kernel in the caller's folder, nbval in the notebook's folder).
    Falls back to the package's parent folder when ``start`` is not inside the repository.
    """
    candidates = [Path(start or Path.cwd()).resolve(), Path(__file__).resolve().parent]
    for base in candidates:
        for folder in (base, *base.parents):
            if (folder / "pyproject.toml").is_file() and (folder / "asd_utils").is_dir():
                return folder
    return Path(__file__).resolve().parent.parent


def resolve_path(path: str | os.PathLike) -> Path:
    """An absolute path: ``path`` itself if absolute, else relative to :func:`repo_root`."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else repo_root() / p


def display_path(path: str | os.PathLike) -> str:
    """``path`` for messages: relative to the repository root when inside it (posix), else absolute."""
    path = Path(path).resolve()
    try:
        return path.relative_to(repo_root()).as_posix()
    except ValueError:
        return str(path)


def set_seed(seed: int) -> None:
    """Seed ``random``, NumPy and PyTorch, and ask PyTorch for deterministic kernels (warn-only)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # the synthetic data and metrics work without torch
        return
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


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
