import numpy as np
import pytest
import torch

from asd_utils.features import stack_frames
from asd_utils.scoring import (classifier_scores, knn_cosine_scores, mahalanobis_scores, neg_log_prob_scores,
                               reconstruction_scores, softmax_scores, spread_of_spectra)
from asd_utils.models import count_parameters
from asd_utils.training import StackedFrames, TensorBatches, fit
from asd_utils.recipes import TrainingRecipe


class TinyAE(torch.nn.Module):
    def __init__(self, dim=40):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(dim, 4), torch.nn.ReLU(), torch.nn.Linear(4, dim))

    def forward(self, x):
        return self.net(x)

    def reconstruction_error(self, x):
        return ((self(x) - x) ** 2).mean(dim=1)


def mse_loss(model, batch):
    (x,) = batch
    return model.reconstruction_error(x).mean()


def test_stacked_frames_match_stack_frames_and_standardise():
    log_mels = np.random.default_rng(0).standard_normal((3, 8, 20)).astype(np.float32)
    source = StackedFrames(log_mels, frames=5)
    assert len(source) == 3 * 16
    (batch,) = source.batch(torch.tensor([0, 17, 47]))
    expected = stack_frames(log_mels, 5).reshape(-1, 40)[[0, 17, 47]]
    assert np.array_equal(batch.numpy(), expected)
    mean, std = log_mels.mean(axis=(0, 2)), log_mels.std(axis=(0, 2))
    standardised = StackedFrames(log_mels, 5, mean=mean, std=std)
    assert np.allclose(standardised.log_mels.numpy().mean(axis=(0, 2)), 0, atol=1e-5)


def test_fit_lowers_the_loss_is_seeded_and_validates():
    log_mels = np.random.default_rng(1).standard_normal((4, 8, 30)).astype(np.float32)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = TinyAE()
        history = fit(model, StackedFrames(log_mels), mse_loss,
                      TrainingRecipe(epochs=15, batch_size=16, learning_rate=1e-2), val_fraction=0.25, device="cpu",
                      seed=3, progress=False)
        runs.append(history)
    assert runs[0].train_loss[-1] < 0.8 * runs[0].train_loss[0]
    assert len(runs[0].val_loss) == 15 and runs[0].seconds > 0
    assert runs[0].train_loss == runs[1].train_loss  # same seed, same batches, same numbers
    with pytest.raises(ValueError, match="batch_size"):
        fit(TinyAE(), StackedFrames(log_mels), mse_loss, TrainingRecipe(epochs=1, batch_size=0), progress=False)


def test_fit_can_train_only_some_parameters():
    model = TinyAE()
    frozen = model.net[0].weight.detach().clone()
    fit(model, StackedFrames(np.ones((2, 8, 10), np.float32)), mse_loss, TrainingRecipe(epochs=2, batch_size=4),
        device="cpu",
        parameters=model.net[2].parameters(), progress=False)
    assert torch.equal(model.net[0].weight, frozen)
    assert count_parameters(model) == 40 * 4 + 4 + 4 * 40 + 40


def test_tensor_batches():
    source = TensorBatches(np.arange(10), torch.arange(10) * 2)
    a, b = source.batch(torch.tensor([1, 3]))
    assert a.tolist() == [1, 3] and b.tolist() == [2, 6]
    with pytest.raises(ValueError, match="different lengths"):
        TensorBatches(np.arange(3), np.arange(4))


def test_reconstruction_scores_are_clip_means():
    model = TinyAE()
    log_mels = np.random.default_rng(2).standard_normal((5, 8, 12)).astype(np.float32)
    scores = reconstruction_scores(model, log_mels, clips_per_batch=2)
    vectors = torch.from_numpy(np.ascontiguousarray(stack_frames(log_mels, 5)))
    with torch.no_grad():
        expected = model.reconstruction_error(vectors.reshape(-1, 40)).reshape(5, 8).mean(dim=1)
    assert np.allclose(scores, expected.numpy(), rtol=1e-5)


def test_softmax_scores_follow_eq1_and_saturate():
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0], [40.0, 0.0, 0.0], [60.0, 0.0, 0.0]])
    scores = softmax_scores(logits, [0, 1, 0, 0])
    p = np.exp(2) / (np.exp(2) + 2)
    assert scores[0] == pytest.approx(1 - p) and scores[1] == pytest.approx(2 / 3)
    assert scores[2] < 1e-16 and scores[3] < 1e-16          # saturated: both look perfectly normal
    nlp = neg_log_prob_scores(logits, [0, 1, 0, 0])
    assert nlp[1] == pytest.approx(np.log(3)) and nlp[2] > nlp[3] > 0  # still ranks the saturated clips


def test_embedding_distances():
    rng = np.random.default_rng(0)
    train = np.r_[rng.normal(0, 1, (50, 3)), rng.normal(10, 1, (50, 3))]
    classes = np.r_[np.zeros(50, int), np.ones(50, int)]
    test = np.array([[0.0, 0, 0], [10, 10, 10], [4, 4, 4]])
    test_classes = np.array([0, 0, 1])
    maha = mahalanobis_scores(train, classes, test, test_classes)
    assert maha[0] < 1.5 and maha[1] > 10 and maha[2] > 5  # class 1's clip at (4,4,4) is far from its mean (10,...)
    knn = knn_cosine_scores(np.eye(3), [0, 0, 1], np.array([[1.0, 0, 0], [0, 0, 1.0], [0, 1.0, 0]]), [0, 0, 1], k=1)
    assert knn.tolist() == pytest.approx([0.0, 1.0, 1.0], abs=1e-9)
    with pytest.raises(ValueError, match=r"class\(es\) \[2\]"):
        mahalanobis_scores(train, classes, test, [0, 1, 2])
    all_scores = classifier_scores(np.zeros((3, 2)), test, test_classes, train, classes)
    assert set(all_scores) == {"1-softmax", "neg_log_prob", "mahalanobis", "knn_cosine"}


def _two_classes(seed=0, n=12, d=6):
    """Correlated, anisotropic embeddings of two classes (few clips per dimension: shrinkage matters)."""
    rng = np.random.default_rng(seed)
    mix = rng.normal(0, 1, (d, d)) * np.linspace(0.2, 3, d)
    train = np.r_[rng.normal(0, 1, (n, d)) @ mix, rng.normal(0, 1, (n + 5, d)) @ mix.T + 4]
    classes = np.r_[np.zeros(n, int), np.ones(n + 5, int)]
    test = rng.normal(0, 2, (9, d)) @ mix + 1
    return train, classes, test, np.array([1, 0, 0, 1, 1, 0, 1, 0, 1])


@pytest.mark.parametrize("shrinkage", [0.0, 0.1, 0.5])
def test_mahalanobis_matches_sklearn_shrunk_covariance(shrinkage):
    """Per class: sklearn's ShrunkCovariance is (1 - s) * C + s * trace(C)/d * I with the biased covariance C (1/n);
    the course uses the unbiased one (1/(n - 1)), which scales squared distances by (n - 1)/n."""
    from sklearn.covariance import EmpiricalCovariance, ShrunkCovariance

    train, classes, test, test_classes = _two_classes()
    scores = mahalanobis_scores(train, classes, test, test_classes, shrinkage=shrinkage)
    for cls in (0, 1):
        own, mask = train[classes == cls], test_classes == cls
        n = len(own)
        fitted = (ShrunkCovariance(shrinkage=shrinkage) if shrinkage else EmpiricalCovariance()).fit(own)
        np.testing.assert_allclose(scores[mask], np.sqrt(fitted.mahalanobis(test[mask]) * (n - 1) / n), rtol=1e-7)


def test_mahalanobis_default_shrinkage_by_hand():
    """One dimension, training values -1, 0, 1 (mean 0, variance 1 with 1/(n - 1)): shrinking towards trace/d = 1
    keeps the variance 1, so a test value x is |x| away; in 2-D with variances 4 and 1 (no covariance) the default
    shrinkage 0.1 gives variances 0.9 * 4 + 0.1 * 2.5 = 3.85 and 0.9 + 0.25 = 1.15."""
    assert mahalanobis_scores([[-1.0], [0.0], [1.0]], [0, 0, 0], [[3.0]], [0]) == pytest.approx([3.0])
    train = np.array([[-2.0, 0], [2, 0], [0, -1], [0, 1]]) * np.sqrt(3 / 2)  # variances 4 and 1 (1/(n - 1))
    x = np.array([[2.0, 1.0]])
    assert mahalanobis_scores(train, [0] * 4, x, [0]) == pytest.approx([np.sqrt(4 / 3.85 + 1 / 1.15)])
    assert mahalanobis_scores(train, [0] * 4, x, [0], shrinkage=0.0) == pytest.approx([np.sqrt(4 / 4 + 1 / 1)])


def _knn_cosine_brute_force(train, classes, test, test_classes, k):
    out = []
    for query, cls in zip(test, test_classes):
        distances = sorted(1 - np.dot(query, ref) / (np.linalg.norm(query) * np.linalg.norm(ref))
                           for ref, ref_cls in zip(train, classes) if ref_cls == cls)
        out.append(np.mean(distances[:k]))
    return np.array(out)


@pytest.mark.parametrize("k", [1, 3, 100])
def test_knn_cosine_matches_brute_force(k):
    train, classes, test, test_classes = _two_classes(seed=1)
    np.testing.assert_allclose(knn_cosine_scores(train, classes, test, test_classes, k=k),
                               _knn_cosine_brute_force(train, classes, test, test_classes, k), atol=1e-10)


def test_classifier_scores_maps_each_name_to_its_score():
    train, classes, test, test_classes = _two_classes(seed=2)
    logits = np.random.default_rng(2).normal(0, 2, (len(test), 2))
    scores = classifier_scores(logits, test, test_classes, train, classes)
    np.testing.assert_allclose(scores["mahalanobis"], mahalanobis_scores(train, classes, test, test_classes, 0.1))
    np.testing.assert_allclose(scores["knn_cosine"], _knn_cosine_brute_force(train, classes, test, test_classes, 1),
                               atol=1e-10)
    np.testing.assert_allclose(scores["1-softmax"], softmax_scores(logits, test_classes))
    np.testing.assert_allclose(scores["neg_log_prob"], neg_log_prob_scores(logits, test_classes))


def test_spread_of_spectra_counts_the_directions_clips_vary_in():
    rng = np.random.default_rng(0)
    level = rng.standard_normal((200, 1)) * np.ones((1, 64))  # every band up or down together: one direction
    one = spread_of_spectra(level + 0.01 * rng.standard_normal((200, 64)))
    assert one["directions"] < 1.1 and one["top_share"] > 0.95
    assert one["spread_db"] == pytest.approx(1.0, rel=0.15)
    many = spread_of_spectra(rng.standard_normal((200, 64)))  # every band on its own
    assert many["directions"] > 30 and many["top_share"] < 0.1
    with pytest.raises(ValueError, match="at least 2 clips, got 1"):
        spread_of_spectra(np.zeros((1, 64)))
