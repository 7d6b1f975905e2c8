"""Anomaly scores: one number per clip, higher = more anomalous.

Two families, as in the course reports:

* **Reconstruction error** (autoencoders): the mean squared error over a clip's 309 stacked-frame vectors, the DCASE
  2020 baseline's rule.
* **Machine-id classifiers** (ResNet50, STgramNet, SepSTgramNet): a model trained to tell machine ids apart from
  normal clips. The report's Eq. 1 scores ``s = 1 - softmax(z)[id]`` for the clip's own id; the negative
  log-probability ``-log softmax(z)[id]`` is the same ranking with more resolution near ``p = 1``. When the ids are easy
  to tell apart the softmax saturates (every clip gets ``p = 1.0``) and these scores carry no signal; distances of a
  clip's *embedding* to its own id's training embeddings (Mahalanobis, nearest-neighbour cosine) keep working.

Introduced in: notebooks/03_autoencoder_baselines.ipynb (reconstruction) and notebooks/04_resnet_baseline.ipynb
(classifier scores).
"""
from __future__ import annotations

import numpy as np
import torch

from .devices import model_on, to_device
from .training import StackedFrames


def reconstruction_scores(model: torch.nn.Module, log_mels, frames: int = 5, mean=None, std=None,
                          device: str | torch.device = "cpu", clips_per_batch: int = 16) -> np.ndarray:
    """Mean reconstruction error per clip: ``[n_clips, n_mels, n_frames]`` log-mels -> ``[n_clips]`` scores.

    ``model.reconstruction_error(x)`` gives the per-vector error of ``[batch, n_mels * frames]`` inputs; a clip's
    score is the mean over its ``n_frames - frames + 1`` vectors. ``mean``/``std`` must be those used in training.
    """
    vectors = StackedFrames(log_mels, frames=frames, mean=mean, std=std)
    per_clip = vectors.vectors_per_clip
    model.eval()
    scores = np.empty(len(vectors) // per_clip, dtype=np.float64)
    with model_on(model, device) as device, torch.no_grad():
        for start in range(0, len(scores), clips_per_batch):
            stop = min(start + clips_per_batch, len(scores))
            (x,) = vectors.batch(torch.arange(start * per_clip, stop * per_clip))
            errors = model.reconstruction_error(to_device(x, device)).reshape(stop - start, per_clip)
            scores[start:stop] = errors.mean(dim=1).double().cpu().numpy()
    return scores


def p_own_id(logits, class_index) -> np.ndarray:
    """``softmax(logits)[class_index]`` per clip (float64): 1.0 means the classifier is certain the clip is its own
    machine."""
    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    index = torch.as_tensor(np.asarray(class_index), dtype=torch.long)
    return torch.softmax(logits, dim=1).gather(1, index[:, None])[:, 0].numpy()


def softmax_scores(logits, class_index) -> np.ndarray:
    """The report's Eq. 1: ``1 - softmax(logits)[class_index]`` per clip (0 = surely its own machine, 1 = not)."""
    return 1.0 - p_own_id(logits, class_index)


def neg_log_prob_scores(logits, class_index) -> np.ndarray:
    """``-log softmax(logits)[class_index]``: Eq. 1's ranking, but still informative when ``p`` rounds to 1.

    Computed as ``log1p(sum_j exp(z_j - z_id))`` over the other classes, which stays accurate (and keeps ranking
    clips) even when the target's logit leads by 40 or more and ``1 - p`` is exactly 0 in floating point.
    """
    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    index = torch.as_tensor(np.asarray(class_index), dtype=torch.long)
    margins = logits - logits.gather(1, index[:, None])
    margins = margins.scatter(1, index[:, None], float("-inf"))  # leave the clip's own class out of the sum
    return torch.nn.functional.softplus(torch.logsumexp(margins, dim=1), threshold=50).numpy()


def _per_class(train_embeddings, train_classes, test_embeddings, test_classes):
    train_embeddings = np.asarray(train_embeddings, dtype=np.float64)
    test_embeddings = np.asarray(test_embeddings, dtype=np.float64)
    train_classes, test_classes = np.asarray(train_classes), np.asarray(test_classes)
    missing = set(np.unique(test_classes).tolist()) - set(np.unique(train_classes).tolist())
    if missing:
        raise ValueError(f"test clips of class(es) {sorted(missing)} have no training embeddings")
    for cls in np.unique(test_classes):
        yield cls, train_embeddings[train_classes == cls], test_embeddings, test_classes == cls


def mahalanobis_scores(train_embeddings, train_classes, test_embeddings, test_classes,
                       shrinkage: float = 0.1) -> np.ndarray:
    """Mahalanobis distance of each test embedding to the training embeddings of its own class (machine id).

    Each class gets its mean and a covariance shrunk towards a scaled identity
    (``(1 - shrinkage) * C + shrinkage * trace(C)/d * I``), so it stays invertible with fewer clips than dimensions.
    Shapes: embeddings ``[n, d]``, classes ``[n]``; returns ``[n_test]``.
    """
    scores = np.empty(len(test_classes), dtype=np.float64)
    for _, train, test, mask in _per_class(train_embeddings, train_classes, test_embeddings, test_classes):
        mean = train.mean(axis=0)
        centred = train - mean
        cov = centred.T @ centred / max(len(train) - 1, 1)
        d = cov.shape[0]
        cov = (1 - shrinkage) * cov + shrinkage * (np.trace(cov) / d + 1e-12) * np.eye(d)
        diff = test[mask] - mean
        scores[mask] = np.sqrt(np.einsum("ij,ij->i", diff @ np.linalg.inv(cov), diff))
    return scores


def knn_cosine_scores(train_embeddings, train_classes, test_embeddings, test_classes, k: int = 1) -> np.ndarray:
    """Mean cosine distance (``1 - cos``) of each test embedding to its ``k`` nearest training embeddings of its class."""
    scores = np.empty(len(test_classes), dtype=np.float64)
    for _, train, test, mask in _per_class(train_embeddings, train_classes, test_embeddings, test_classes):
        train = train / (np.linalg.norm(train, axis=1, keepdims=True) + 1e-12)
        query = test[mask] / (np.linalg.norm(test[mask], axis=1, keepdims=True) + 1e-12)
        distances = 1.0 - query @ train.T
        kk = min(k, train.shape[0])
        scores[mask] = np.sort(distances, axis=1)[:, :kk].mean(axis=1)
    return scores


def mean_spectrum_scores(train_log_mels, train_classes, test_log_mels, test_classes,
                         shrinkage: float = 0.1) -> np.ndarray:
    """The training-free bar: each clip's log-mel averaged over time (``[n, n_mels, n_frames]`` -> ``[n, n_mels]``),
    scored by its Mahalanobis distance to the mean spectra of its own id's normal training clips (one Gaussian per id,
    shrunk covariance as in :func:`mahalanobis_scores`). Nothing is trained: a mean and a covariance per id.

    Introduced in: notebooks/01_data_exploration.ipynb
    """
    return mahalanobis_scores(time_average(train_log_mels), train_classes, time_average(test_log_mels), test_classes,
                              shrinkage=shrinkage)


def spread_of_spectra(spectra) -> dict[str, float]:
    """How the normal clips of one machine vary around their mean spectrum (``[n_clips, n_mels]``, dB): ``spread_db``
    (RMS distance to the mean), ``directions`` (participation ratio of the covariance's eigenvalues: about 1 when the
    clips vary along one direction, such as their signal-to-noise ratio, larger when they vary in many) and
    ``top_share`` (fraction of the variance along the first principal direction). Few directions are what make the
    mean-spectrum Gaussian sharp: it discounts them and sees any other change."""
    centred = np.asarray(spectra, dtype=np.float64) - np.mean(spectra, axis=0)
    if centred.shape[0] < 2:
        raise ValueError(f"the spread of spectra needs at least 2 clips, got {centred.shape[0]}")
    variances = np.linalg.svd(centred, compute_uv=False) ** 2
    shares = variances / variances.sum()
    return {"spread_db": float(np.sqrt(np.mean(np.square(centred)))), "directions": float(1.0 / np.sum(shares ** 2)),
            "top_share": float(shares[0])}


def time_average(log_mels, clips_per_chunk: int = 256) -> np.ndarray:
    """Each clip's log-mel averaged over time, ``[n, n_mels, n_frames]`` -> ``[n, n_mels]``, a chunk of clips at a
    time (an array or ``asd_utils.clip_rows.ClipRows``: no copy of every clip at once)."""
    if len(log_mels) == 0:
        return np.zeros((0, log_mels.shape[1]))
    return np.concatenate([np.asarray(log_mels[start:start + clips_per_chunk]).mean(axis=2)
                           for start in range(0, len(log_mels), clips_per_chunk)])


def classifier_scores(logits, embeddings, class_index, train_embeddings, train_classes) -> dict[str, np.ndarray]:
    """Every classifier score of the course at once: ``{"1-softmax", "neg_log_prob", "mahalanobis", "knn_cosine"}``."""
    return {
        "1-softmax": softmax_scores(logits, class_index),
        "neg_log_prob": neg_log_prob_scores(logits, class_index),
        "mahalanobis": mahalanobis_scores(train_embeddings, train_classes, embeddings, class_index),
        "knn_cosine": knn_cosine_scores(train_embeddings, train_classes, embeddings, class_index),
    }
