"""Tests for asd_utils.download against a local HTTP server (127.0.0.1 only) that serves tiny DCASE-like zips.

The server supports ``Range`` requests, can drop the connection after N bytes, can ignore ranges, answers 404 for
unknown files and records every request, so the tests can check what the downloader asked for.
"""
from __future__ import annotations

import hashlib
import json
import io
import re
import shutil
import socket
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import soundfile as sf

from asd_utils import download as dl
from asd_utils.download import DCASE2020_REGISTRY, DownloadError, RemoteFile, download_dcase, download_main

GROUND_TRUTH = ("fan\nid_01_00000000.wav,normal_id_01_00000000.wav,0\n"
                "slider\nid_01_00000000.wav,anomaly_id_01_00000000.wav,1\nid_03_00000000.wav,normal_id_03_00000000.wav,0\n")
DEV_FILES = ["slider/train/normal_id_00_00000000.wav", "slider/train/normal_id_02_00000000.wav",
             "slider/train/normal_id_04_00000000.wav", "slider/train/normal_id_06_00000000.wav",
             "slider/test/normal_id_00_00000000.wav", "slider/test/anomaly_id_00_00000000.wav",
             "slider/test/anomaly_id_06_00000000.wav"]
EVAL_TRAIN_FILES = ["slider/train/normal_id_01_00000000.wav", "slider/train/normal_id_03_00000000.wav"]
EVAL_TEST_FILES = ["slider/test/id_01_00000000.wav", "slider/test/id_03_00000000.wav"]


def _wav_bytes(seed: int) -> bytes:
    """A 0.1 s, 16 kHz, 16-bit PCM WAV of noise."""
    samples = np.random.default_rng(seed).integers(-3000, 3000, size=1600).astype(np.int16)
    buffer = io.BytesIO()
    sf.write(buffer, samples, 16000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _zip_bytes(members: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("slider/", b"")  # real zips have directory entries too
        for i, name in enumerate(members):
            zf.writestr(name, _wav_bytes(i))
    return buffer.getvalue()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # a stuck client cannot hold a server thread for long

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        state = self.server.state
        path, range_header = self.path.split("?")[0], self.headers.get("Range")
        with state["lock"]:
            state["requests"].append((path, range_header))
            drop_after = state["drop_after"].pop(path, None)
        body = state["files"].get(path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        if range_header and not state["ignore_range"]:
            start = int(re.fullmatch(r"bytes=(\d+)-", range_header).group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        payload = body[start:] if drop_after is None else body[start:start + drop_after]
        self.wfile.write(payload)
        if drop_after is not None:  # hang up midway: the client sees fewer bytes than Content-Length
            self.wfile.flush()
            self.close_connection = True


@pytest.fixture
def server():
    """A ThreadingHTTPServer on 127.0.0.1 (port 0), shut down at teardown."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.state = {"lock": threading.Lock(), "files": {}, "requests": [], "drop_after": {}, "ignore_range": False}
    httpd.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _no_retry_wait(monkeypatch):
    monkeypatch.setattr(dl, "RETRY_WAIT_S", 0.0)


def _publish(httpd, name: str, record: int, body: bytes, md5: str | None = "auto", size: bool = True) -> RemoteFile:
    """Serve ``body`` as Zenodo would and return its registry entry (md5 "auto": the true one, None: unknown)."""
    httpd.state["files"][f"/record/{record}/files/{name}"] = body
    md5 = hashlib.md5(body).hexdigest() if md5 == "auto" else md5
    return RemoteFile(record, name, md5, len(body) if size else None)


def _registry(httpd) -> dict[str, RemoteFile]:
    """Slider files: MD5 for dev and eval-train (as the real registry), none for eval-test and the ground truth (the
    path a file without a published checksum takes: size where known, the CRC of every zip member)."""
    entries = [_publish(httpd, "dev_data_slider.zip", 3678171, _zip_bytes(DEV_FILES)),
               _publish(httpd, "eval_data_train_slider.zip", 3727685, _zip_bytes(EVAL_TRAIN_FILES)),
               _publish(httpd, "eval_data_test_slider.zip", 3841772, _zip_bytes(EVAL_TEST_FILES), md5=None,
                        size=False),
               _publish(httpd, "eval_data_list.csv", 3951620, GROUND_TRUTH.encode(), md5=None, size=False)]
    return {e.name: e for e in entries}


def _wavs(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.wav") if "downloads" not in p.parts)


def test_registry_has_known_checksums():
    for mtype in dl.MACHINE_TYPES:
        assert len(DCASE2020_REGISTRY[f"dev_data_{mtype}.zip"].md5) == 32
        assert len(DCASE2020_REGISTRY[f"eval_data_train_{mtype}.zip"].md5) == 32
        assert len(DCASE2020_REGISTRY[f"eval_data_test_{mtype}.zip"].md5) == 32  # Zenodo record 3841772
    assert DCASE2020_REGISTRY["dev_data_slider.zip"].size == 1_002_998_966
    assert DCASE2020_REGISTRY["dev_data_slider.zip"].url() == (
        "https://zenodo.org/record/3678171/files/dev_data_slider.zip?download=1")


def test_full_download_extracts_dcase_layout(server, tmp_path, capsys):
    summary = download_dcase(tmp_path, base_url=server.base_url, registry=_registry(server), progress=True)
    assert _wavs(tmp_path) == sorted(
        [f"dev_data/{m}" for m in DEV_FILES if "id_06" not in m]
        + [f"eval_data/{m}" for m in EVAL_TRAIN_FILES + EVAL_TEST_FILES])
    assert (tmp_path / "eval_data/slider/eval_data_list.csv").read_text() == GROUND_TRUTH
    assert sorted(p.name for p in (tmp_path / "downloads").iterdir()) == [
        "dev_data_slider.zip", "eval_data_list.csv", "eval_data_test_slider.zip", "eval_data_train_slider.zip"]
    assert not list(tmp_path.rglob(".extract-*"))
    assert {p: s["status"] for p, s in summary["parts"].items()} == dict.fromkeys(dl.PARTS, "downloaded")
    assert summary["parts"]["dev"]["verified"] == "MD5 verified"
    assert "CRC of every zip member" in summary["parts"]["eval_test"]["verified"]
    data, sr = sf.read(tmp_path / "dev_data/slider/train/normal_id_00_00000000.wav", dtype="int16")
    assert sr == 16000 and data.shape == (1600,)
    assert "Disk:" in capsys.readouterr().out


def test_rerun_makes_no_request_and_reuses_verified_zip(server, tmp_path):
    registry = _registry(server)
    download_dcase(tmp_path, base_url=server.base_url, registry=registry, progress=False)
    server.state["requests"].clear()
    summary = download_dcase(tmp_path, base_url=server.base_url, registry=registry, progress=False)
    assert server.state["requests"] == []
    assert {s["status"] for s in summary["parts"].values()} == {"already present"}
    (tmp_path / "dev_data/slider/train/normal_id_02_00000000.wav").unlink()  # damaged tree: re-extract, no download
    summary = download_dcase(tmp_path, base_url=server.base_url, registry=registry, progress=False)
    assert server.state["requests"] == []
    assert summary["parts"]["dev"]["status"] == "reused download"
    assert (tmp_path / "dev_data/slider/train/normal_id_02_00000000.wav").is_file()


def test_resume_after_dropped_connection(server, tmp_path):
    registry = _registry(server)
    path = "/record/3678171/files/dev_data_slider.zip"
    server.state["drop_after"][path] = 5000
    download_dcase(tmp_path, parts=["dev"], base_url=server.base_url, registry=registry, progress=False)
    assert server.state["requests"] == [(path, None), (path, "bytes=5000-")]
    assert dl.file_md5(tmp_path / "downloads/dev_data_slider.zip") == registry["dev_data_slider.zip"].md5
    assert (tmp_path / "dev_data/slider/test/anomaly_id_00_00000000.wav").is_file()


def test_resume_on_next_run_after_giving_up(server, tmp_path):
    registry = _registry(server)
    path = "/record/3678171/files/dev_data_slider.zip"
    server.state["drop_after"][path] = 7000
    with pytest.raises(DownloadError, match="run again to resume") as err:
        download_dcase(tmp_path, parts=["dev"], base_url=server.base_url, registry=registry, progress=False,
                       retries=0)
    assert "https://zenodo.org/record/3678171" in str(err.value)
    assert (tmp_path / "downloads/dev_data_slider.zip.part").stat().st_size == 7000
    assert not (tmp_path / "dev_data").exists()
    download_dcase(tmp_path, parts=["dev"], base_url=server.base_url, registry=registry, progress=False)
    assert server.state["requests"][-1] == (path, "bytes=7000-")
    assert not (tmp_path / "downloads/dev_data_slider.zip.part").exists()


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    registry = _registry(server)
    path = "/record/3727685/files/eval_data_train_slider.zip"
    server.state["drop_after"][path] = 3000
    server.state["ignore_range"] = True
    download_dcase(tmp_path, parts=["eval_train"], base_url=server.base_url, registry=registry, progress=False)
    assert server.state["requests"] == [(path, None), (path, "bytes=3000-")]
    assert dl.file_md5(tmp_path / "downloads/eval_data_train_slider.zip") == registry["eval_data_train_slider.zip"].md5


def test_checksum_mismatch_deletes_file_and_extracts_nothing(server, tmp_path):
    registry = _registry(server)
    good = registry["dev_data_slider.zip"]
    registry["dev_data_slider.zip"] = RemoteFile(good.record, good.name, "0" * 32, good.size)
    with pytest.raises(DownloadError, match="MD5") as err:
        download_dcase(tmp_path, parts=["dev"], base_url=server.base_url, registry=registry, progress=False)
    message = str(err.value)
    assert "dev_data_slider.zip" in message and "https://zenodo.org/record/3678171" in message
    assert str(tmp_path / "dev_data" / "slider") in message
    assert list((tmp_path / "downloads").iterdir()) == []
    assert not (tmp_path / "dev_data").exists()


def test_http_404_names_the_manual_alternative(server, tmp_path):
    registry = _registry(server)
    server.state["files"].pop("/record/3841772/files/eval_data_test_slider.zip")
    with pytest.raises(DownloadError, match="HTTP 404") as err:
        download_dcase(tmp_path, parts=["eval_test"], base_url=server.base_url, registry=registry, progress=False)
    message = str(err.value)
    assert f"{server.base_url}/record/3841772/files/eval_data_test_slider.zip" in message
    assert "Manual alternative" in message and "https://zenodo.org/record/3841772" in message
    assert str(tmp_path / "downloads" / "eval_data_test_slider.zip") in message
    assert len(server.state["requests"]) == 1  # a 404 is not retried


@pytest.mark.parametrize("damage", ["truncated", "flipped_byte"])
def test_corrupt_zip_without_checksum(server, tmp_path, damage):
    registry = _registry(server)
    body = _zip_bytes(EVAL_TEST_FILES)
    if damage == "truncated":
        body = body[: len(body) // 2]
    else:  # flip one audio byte: the zip opens but a member fails its CRC
        i = body.index(b"data") + 100
        body = body[:i] + bytes([body[i] ^ 0xFF]) + body[i + 1:]
    registry["eval_data_test_slider.zip"] = _publish(server, "eval_data_test_slider.zip", 3841772, body, md5=None,
                                                     size=False)
    with pytest.raises(DownloadError, match="fails verification"):
        download_dcase(tmp_path, parts=["eval_test"], base_url=server.base_url, registry=registry, progress=False)
    assert list((tmp_path / "downloads").iterdir()) == []
    assert not (tmp_path / "eval_data").exists()


def test_all_ids_then_course_subset_and_delete_zips(server, tmp_path):
    registry = _registry(server)
    download_dcase(tmp_path, parts=["dev"], course_subset=False, keep_zips=False, base_url=server.base_url,
                   registry=registry, progress=False)
    assert "dev_data/slider/train/normal_id_06_00000000.wav" in _wavs(tmp_path)
    assert not (tmp_path / "downloads/dev_data_slider.zip").exists()
    download_dcase(tmp_path, parts=["dev"], course_subset=True, base_url=server.base_url, registry=registry,
                   progress=False)  # zip was deleted: downloads again, and drops the id_06 files it had put there
    assert len(server.state["requests"]) == 2
    assert not any("id_06" in p for p in _wavs(tmp_path))


def test_no_network(tmp_path):
    with socket.socket() as s:  # a port on which nobody listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    registry = {"eval_data_list.csv": RemoteFile(3951620, "eval_data_list.csv")}
    with pytest.raises(DownloadError, match="no connection") as err:
        download_dcase(tmp_path, parts=["ground_truth"], base_url=f"http://127.0.0.1:{port}", registry=registry,
                       progress=False, retries=1, timeout=2)
    assert "https://zenodo.org/record/3951620" in str(err.value)
    assert not (tmp_path / "eval_data").exists()


def test_download_main(server, tmp_path, capsys):
    _publish(server, "eval_data_list.csv", 3951620, GROUND_TRUTH.encode())
    argv = ["--data-root", str(tmp_path), "--base-url", server.base_url, "--no-progress"]
    assert download_main(argv + ["--parts", "ground_truth"]) == 0
    assert "ground_truth" in capsys.readouterr().out
    assert (tmp_path / "eval_data/slider/eval_data_list.csv").read_text() == GROUND_TRUTH
    assert download_main(argv + ["--parts", "eval_test"]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        download_main(argv + ["--parts", "dev,nonsense"])


def test_not_enough_disk_space_stops_before_writing(server, tmp_path, monkeypatch):
    registry = _registry(server)
    real_usage = shutil.disk_usage
    monkeypatch.setattr(dl.shutil, "disk_usage",
                        lambda path: real_usage(path)._replace(free=1000))  # 1 kB free: less than any zip here
    with pytest.raises(DownloadError, match=r"Not enough disk space for 4 DCASE file\(s\).*free at .*--data-root"):
        download_dcase(tmp_path, base_url=server.base_url, registry=registry, progress=False)
    assert _wavs(tmp_path) == []
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.stat().st_size > 0]


def test_user_placed_zip_that_fails_is_kept_under_another_name(tmp_path, capsys):
    """The no-internet message tells users to put the zip in downloads/; a bad copy there used to be deleted."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    entry = RemoteFile(3678171, "dev_data_slider.zip", "0" * 32, None)
    placed = tmp_path / "downloads" / entry.name
    placed.parent.mkdir(parents=True)
    placed.write_bytes(b"my own copy")
    with pytest.raises(DownloadError) as err:
        download_dcase(tmp_path, parts=["dev"], base_url=f"http://127.0.0.1:{port}",
                       registry={entry.name: entry}, progress=False, retries=0, timeout=2)
    kept = placed.with_name(entry.name + ".rejected")
    assert kept.read_bytes() == b"my own copy"
    message = str(err.value)
    assert f"it was kept as {kept}" in message and "MD5" in message
    assert "Nothing was downloaded" in message and "partial file" not in message  # no false claim
    assert f"kept as {kept}" in capsys.readouterr().err


def test_stalled_server_times_out_and_says_so(tmp_path, capsys):
    with socket.socket() as listener:  # accepts connections but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        registry = {"eval_data_list.csv": RemoteFile(3951620, "eval_data_list.csv")}
        with pytest.raises(DownloadError, match=r"after 2 attempts \(timeout 0.5 s each\)"):
            download_dcase(tmp_path, parts=["ground_truth"], base_url=f"http://127.0.0.1:{port}", registry=registry,
                           progress=False, retries=1, timeout=0.5)
    assert "(timeout 0.5 s); retry 1 of 1" in capsys.readouterr().err


def test_data_root_that_is_a_file_is_named(tmp_path, capsys):
    blocker = tmp_path / "dcase2020"
    blocker.write_text("not a folder")
    assert download_main(["--data-root", str(blocker), "--no-progress"]) == 1
    assert f"--data-root {blocker}: {blocker} is a file, expected a folder" in capsys.readouterr().err


def test_download_never_replaces_files_someone_put_there(server, tmp_path, capsys):
    """Issue 21: an extracted zip replaced differing files in place, and the ground truth replaced a hand-placed one."""
    registry = _registry(server)
    mine = tmp_path / "dev_data/slider/train/normal_id_00_00000000.wav"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(_wav_bytes(99))
    with pytest.raises(DownloadError, match=r"1 file\(s\) already in .* differ from the zip's, e.g. "
                                            r"slider/train/normal_id_00_00000000.wav; nothing was replaced"):
        download_dcase(tmp_path, parts=["dev"], base_url=server.base_url, registry=registry, progress=False)
    assert mine.read_bytes() == _wav_bytes(99)
    assert _wavs(tmp_path) == ["dev_data/slider/train/normal_id_00_00000000.wav"]
    placed = tmp_path / "eval_data/slider/eval_data_list.csv"
    placed.parent.mkdir(parents=True)
    placed.write_text("slider\nid_01_00000000.wav,x,0\n")
    download_dcase(tmp_path, parts=["ground_truth"], base_url=server.base_url, registry=registry, progress=True)
    assert "it was kept as eval_data_list.csv.before-download" in capsys.readouterr().out
    assert (placed.parent / "eval_data_list.csv.before-download").read_text() == "slider\nid_01_00000000.wav,x,0\n"
    assert placed.read_text() == GROUND_TRUTH


def test_tampered_marker_deletes_nothing_outside(server, tmp_path):
    registry = _registry(server)
    root = tmp_path / "data"
    download_dcase(root, parts=["dev"], base_url=server.base_url, registry=registry, progress=False)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    marker = root / "dev_data/slider/.complete_dev.json"
    info = json.loads(marker.read_text())
    marker.write_text(json.dumps({**info, "files": info["files"] + ["../victim.txt", "../../victim.txt"]}))
    download_dcase(root, parts=["dev"], base_url=server.base_url, registry=registry, progress=False)
    assert victim.read_text() == "mine"
