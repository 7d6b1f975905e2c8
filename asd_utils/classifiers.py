"""One pipeline for every machine-id classifier (ResNet-50 baseline, STgramNet, SepSTgramNet, ArcFace variants).

The classifier approach turns anomaly detection into a supervised task that needs normal clips only: train a
network to tell the machine ids apart, then call a test clip suspicious when the network does not recognise it as
its own machine. Every classifier notebook runs the same steps::

    table -> ClipInputs and class indices                     asd_utils.classifier_inputs
          -> trained model (asd_utils.training.fit)           build_classifier, train_classifier
          -> exact BatchNorm statistics ("precise BN")        recalibrate_batchnorm
          -> logits + embeddings of reference and test clips  predict
          -> anomaly scores (asd_utils.scoring)               run_classifier -> ClassifierRun.scores
          -> metrics dicts                                    ClassifierRun.metrics
          -> scores.csv, checkpoints, rescoring               asd_utils.classifier_files

:func:`run_classifier` does all of it. The network may learn from a subsample of the training clips (to save time)
while every normal training clip serves as *reference* for the distance scores.

Classes are the machine ids present in the training data (sorted), so the same code trains on the dev ids
(00/02/04), on the eval ids (01/03/05) or on the four dev ids of the real data. The log-mels are standardised with
one mean and one standard deviation computed on the training clips (an image normalisation: log-mels in dB sit far
from zero), and the checkpoint stores both.

Scores (higher = more anomalous; see :mod:`asd_utils.scoring`): ``"1-softmax"`` (the report's Eq. 1),
``"neg_log_prob"``, ``"mahalanobis"`` and ``"knn_cosine"`` (distances of a clip's embedding to its own id's training
embeddings). When ids are easy to tell apart the softmax saturates at ``p(id) = 1`` for normal *and* anomalous clips;
the embedding distances keep a signal (``ClassifierRun.p_id`` shows it). The figures of a run (``plot_p_id``,
``plot_confusion``, ``plot_roc_curves``, ``plot_score_distributions``) are in :mod:`asd_utils.plots`.

Introduced in: notebooks/04_resnet_baseline.ipynb (reused by 05_stgramnet and 06_sepstgramnet)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from .classifier_inputs import MIN_CLASSES, ClipInputs, class_indices, class_mapping, level_free, logmel_stats
from .clip_rows import ClipRows
from .data import require_machine_ids
from .features import LogMelParams
from .metrics import evaluate_scores
from . import models
from .model_registry import CLASSIFIER_CLASS_NAMES, SCORE_LABELS
from .models import ResNet50Baseline, as_classifier, count_parameters
from .scoring import classifier_scores, p_own_id
from .recipes import ClassifierRecipe
from .training import RandomCrops, TensorBatches, TrainingHistory, fit
from .devices import as_device, model_on, to_device
from .utils import progress_bars_wanted

#: build_classifier kind -> class (asd_utils.model_registry.CLASSIFIER_CLASS_NAMES with the classes)
CLASSIFIER_KINDS = {kind: getattr(models, class_name) for kind, class_name in CLASSIFIER_CLASS_NAMES.items()}


# ------------------------------------------------------------------------------------------------- models
def build_classifier(kind: str, num_classes: int, params: LogMelParams = LogMelParams(),
                     **options) -> torch.nn.Module:
    """A classifier of ``kind`` (``resnet50_baseline``, ``stgramnet``, ``sepstgramnet``) for ``num_classes`` ids.

    ``params`` (``n_mels``, ``n_fft`` = Tgram window, ``hop_length``) size the TgramNet so that the Tgram has the
    log-mel's shape. ``options`` go to the constructor (``head="arcface"``, ``hidden=256``, ...; ``pretrained``
    asks for ImageNet weights of every kind: the waveform networks call it ``pretrained_backbone``). The constructor
    options are kept in ``model.spec`` for checkpoints and metrics, and ``model.weights_loaded`` says whether ImageNet
    weights were requested *and* could be loaded.
    """
    if kind not in CLASSIFIER_KINDS:
        raise ValueError(f"unknown classifier kind {kind!r}; expected one of {sorted(CLASSIFIER_KINDS)}")
    require_machine_ids(range(num_classes), MIN_CLASSES, f"classifier {kind!r} (num_classes={num_classes})")
    kwargs = dict(options)
    if kind != "resnet50_baseline":
        if "pretrained" in kwargs:
            kwargs["pretrained_backbone"] = kwargs.pop("pretrained")
        kwargs.update(n_mels=params.n_mels, win_length=params.n_fft, hop_length=params.hop_length)
    requested = bool(kwargs.get("pretrained", kwargs.get("pretrained_backbone", False)))
    model = CLASSIFIER_KINDS[kind](num_classes, **kwargs)
    backbones = [m for m in model.modules() if isinstance(m, models.ResNet)]
    model.spec = {"kind": kind, "num_classes": num_classes, "options": kwargs}
    model.weights_loaded = requested and all(backbone.imagenet_weights_loaded for backbone in backbones)
    return model


def _is_frozen_baseline(model) -> bool:
    return isinstance(model, ResNet50Baseline) and model.freeze_backbone


def _standardised(logmels, norm) -> torch.Tensor:
    mean, std = norm
    return (level_free(torch.as_tensor(logmels, dtype=torch.float32)) - mean) / std


class StandardisedRows:
    """``logmels`` standardised for the network (:func:`_standardised`) a batch at a time: ``rows[idx]`` is a
    float32 tensor ``[len(idx), n_mels, T]``; ``len`` and ``shape`` are the clips'."""

    def __init__(self, logmels, norm: tuple[float, float]):
        self.logmels, self.norm = ClipRows.of(logmels), norm
        self.shape = self.logmels.shape

    def __len__(self) -> int:
        return len(self.logmels)

    def __getitem__(self, rows) -> torch.Tensor:
        return _standardised(self.logmels[rows], self.norm)


def _network_inputs(inputs: ClipInputs, norm: tuple[float, float], device, batch_size: int, stop: int | None = None):
    """Batches ``(waveforms or None, standardised log-mels)`` of clips ``0 .. stop - 1`` on ``device``, in order."""
    stop = len(inputs) if stop is None else stop
    for start in range(0, stop, batch_size):
        end = min(start + batch_size, stop)
        wave = None if inputs.waves is None else to_device(torch.as_tensor(inputs.waves[start:end]), device)
        yield wave, to_device(_standardised(inputs.logmels[start:end], norm), device)


def frozen_embeddings(model: ResNet50Baseline, inputs: ClipInputs, norm: tuple[float, float], device="cpu",
                      batch_size: int = 16) -> np.ndarray:
    """Backbone features ``[N, 2048]`` of a frozen :class:`ResNet50Baseline`, computed once (eval mode, no grad)."""
    model.eval()
    out = []
    with model_on(model, device) as device, torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            logmels = _standardised(inputs.logmels[start:start + batch_size], norm)
            out.append(model.embed(to_device(logmels, device)).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, model.embedding_dim), dtype=np.float32)


def train_classifier(model, inputs: ClipInputs, classes, norm: tuple[float, float], recipe: ClassifierRecipe, *,
                     device="auto", seed: int = 0, progress: bool = True, embeddings=None, desc: str = "classifier",
                     on_epoch=None) -> TrainingHistory:
    """Train ``model`` to predict ``classes [N]`` from ``inputs`` with :func:`asd_utils.training.fit` (Adam, cross-entropy
    or ArcFace via ``model.loss``) as ``recipe`` says. Log-mels are standardised with ``norm = (mean, std)``.

    A frozen :class:`ResNet50Baseline` trains only its head on backbone embeddings computed once (pass them as
    ``embeddings`` to reuse them); the returned ``seconds`` include that embedding pass. ``recipe.crop_frames``:
    train on a random crop of that many frames of each clip, a new one every epoch
    (:class:`asd_utils.training.RandomCrops`); the network still scores whole clips. ``recipe.label_smoothing``: see
    ``MachineIdClassifier.loss``; ``on_epoch``: see :func:`asd_utils.training.fit`. ``recipe.n_train_per_id`` and
    ``recipe.pretrained`` are the caller's (which clips, which initial weights).
    """
    device = as_device(device)
    labels = torch.as_tensor(np.asarray(classes), dtype=torch.long)
    started = time.perf_counter()
    fold = None
    if _is_frozen_baseline(model):
        if embeddings is None:
            embeddings = frozen_embeddings(model, inputs, norm, device)
        embeddings = torch.as_tensor(np.asarray(embeddings), dtype=torch.float32)
        if isinstance(model.head, torch.nn.Linear):  # linear probe on standardised features (see _fold_standardisation)
            fold = embeddings.mean(dim=0), embeddings.std(dim=0) + 1e-6
            embeddings = (embeddings - fold[0]) / fold[1]
        keys, source, parameters = ("embedding", "label"), TensorBatches(embeddings, labels), model.head.parameters()
    else:
        keys = tuple(k for k in ("wave", "logmel") if k in model.required_inputs) + ("label",)
        if "wave" in keys and inputs.waves is None:
            raise ValueError(f"{type(model).__name__} needs waveforms: load_clip_inputs(..., waves=True)")
        logmels = StandardisedRows(inputs.logmels, norm)  # one batch at a time: no standardised copy of every clip
        crop_frames = recipe.crop_frames
        if crop_frames and crop_frames < logmels.shape[-1]:  # (0: whole clips)
            waves = inputs.waves if "wave" in keys else None
            hop = model.hop_length if waves is not None else 1  # waveform samples per log-mel frame
            source = RandomCrops(waves, logmels, labels, crop_frames, hop, seed=seed)
            keys = ("wave", "logmel", "label") if waves is not None else ("logmel", "label")  # RandomCrops' batches
        else:
            tensors = {"wave": inputs.waves, "logmel": logmels}
            source = TensorBatches(*[tensors[k] for k in keys[:-1]], labels)
        parameters = None

    def loss_fn(net, batch):
        return net.loss(dict(zip(keys, batch)), label_smoothing=recipe.label_smoothing)

    history = fit(model, source, loss_fn, recipe, device=device, seed=seed, progress=progress, parameters=parameters,
                  desc=desc, on_epoch=on_epoch)
    if fold is not None:
        _fold_standardisation(model.head, *fold)
    history.seconds = time.perf_counter() - started
    return history


def _fold_standardisation(head: torch.nn.Linear, mean: torch.Tensor, std: torch.Tensor) -> None:
    """Turn a head trained on ``(e - mean) / std`` into one that takes the raw embedding ``e`` (same logits).

    Frozen-backbone features can sit far from zero with a tiny spread between clips (a randomly initialised
    ResNet-50's do); Adam on such inputs swings the logits wildly from step to step. So the
    head is trained on standardised features, then ``W' = W / std`` and ``b' = b - W' @ mean``: the model keeps the
    report's architecture (``Linear(2048, C)`` on the backbone output) and needs no extra state.
    """
    with torch.no_grad():
        weight = head.weight / std.to(head.weight.device)
        head.bias -= weight @ mean.to(head.weight.device)
        head.weight.copy_(weight)


def recalibrate_batchnorm(model, inputs: ClipInputs, norm: tuple[float, float], device="auto",
                          batch_size: int = 8) -> int:
    """Recompute the BatchNorm running statistics of ``model`` as exact averages over ``inputs`` ("precise BN").

    In training mode BatchNorm normalises with the statistics of the current batch; in eval mode it uses running
    averages updated with momentum 0.1, which lag behind the weights when these still change fast (a few dozen Adam
    steps at learning rate 1e-3). The network then classifies well while training and badly in eval mode. One
    forward pass over normal clips in training mode, without gradients and with cumulative averaging, fixes the
    statistics; no weight changes. A frozen :class:`ResNet50Baseline` is left untouched. Returns the number of
    BatchNorm layers recalibrated.
    """
    if _is_frozen_baseline(model):
        return 0
    layers = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not layers:
        return 0
    device = as_device(device)
    momenta = [m.momentum for m in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative moving average = exact mean over the batches seen
    model.train()
    # full batches only (each batch counts equally in the average), unless there are fewer clips than one batch
    stop = len(inputs) - len(inputs) % batch_size if len(inputs) >= batch_size else len(inputs)
    with model_on(model, device) as device, torch.no_grad():
        for wave, logmel in _network_inputs(inputs, norm, device, batch_size, stop):
            model(wave=wave, logmel=logmel)
    for layer, momentum in zip(layers, momenta):
        layer.momentum = momentum
    model.eval()
    return len(layers)


def predict(model, inputs: ClipInputs, norm: tuple[float, float], device="auto", batch_size: int = 16,
            embeddings=None) -> tuple[np.ndarray, np.ndarray]:
    """Logits ``[N, C]`` and embeddings ``[N, D]`` (float32) of ``inputs`` in eval mode, without labels (no margin).

    ``embeddings`` (a frozen baseline's precomputed features) skips the backbone and runs only the head.
    """
    model.eval()
    logits, embeds = [], []
    with model_on(model, device) as device, torch.no_grad():
        if embeddings is not None:  # the head only, on precomputed backbone features
            features = torch.as_tensor(np.asarray(embeddings), dtype=torch.float32).split(batch_size)
            batches = ((model.classify(to_device(emb, device)), emb) for emb in features)
        else:
            batches = (model(wave=wave, logmel=logmel) for wave, logmel in
                       _network_inputs(inputs, norm, device, batch_size))
        for out, emb in batches:
            logits.append(out.float().cpu())
            embeds.append(emb.float().cpu())
    if not logits:
        raise ValueError("no clips to predict")
    return torch.cat(logits).numpy(), torch.cat(embeds).numpy()


def id_accuracy(logits, classes) -> float:
    """Share of clips whose arg-max class is their own machine id."""
    return float(np.mean(np.argmax(np.asarray(logits), axis=1) == np.asarray(classes)))


def confusion_matrix(logits, classes, num_classes: int) -> np.ndarray:
    """Counts ``[true id, predicted id]`` (int) of the arg-max predictions."""
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(matrix, (np.asarray(classes), np.argmax(np.asarray(logits), axis=1)), 1)
    return matrix


# ------------------------------------------------------------------------------------------------- the whole run
@dataclass
class ClassifierRun:
    """Everything one trained classifier produced: model, class mapping, history, logits/embeddings, scores.

    ``train_*`` describe the normal reference clips of the distance scores (the training clips unless
    :func:`run_classifier` got another ``reference``); ``scores`` maps the keys of :data:`SCORE_LABELS` to
    ``[n_test]`` arrays (rows of ``test_table``). ``model_key``: its :data:`asd_utils.model_registry.CLASSIFIERS`
    key (None for a network of one's own), ``options``: its constructor options, ``recipe``: the
    :class:`asd_utils.recipes.ClassifierRecipe` it trained with (as :class:`asd_utils.ae_pipeline.AutoencoderRun`).
    """

    name: str
    model: torch.nn.Module
    mapping: dict[str, int]
    norm: tuple[float, float]
    history: TrainingHistory
    hyperparameters: dict
    train_table: pd.DataFrame
    test_table: pd.DataFrame
    train_logits: np.ndarray
    train_embeddings: np.ndarray
    test_logits: np.ndarray
    test_embeddings: np.ndarray
    scores: dict = field(default_factory=dict)
    model_key: str | None = None
    options: dict = field(default_factory=dict)
    recipe: ClassifierRecipe = field(default_factory=ClassifierRecipe)

    @property
    def train_classes(self) -> np.ndarray:
        return class_indices(self.train_table["machine_id"], self.mapping)

    @property
    def test_classes(self) -> np.ndarray:
        return class_indices(self.test_table["machine_id"], self.mapping)

    @property
    def seconds(self) -> float:
        """Training time, as :attr:`asd_utils.ae_pipeline.AutoencoderRun.seconds`."""
        return self.history.seconds

    @property
    def n_params(self) -> int:
        """Trainable parameters (only the head for a frozen ResNet-50 baseline)."""
        return count_parameters(self.model)

    @property
    def p_id(self) -> np.ndarray:
        """``softmax(z)[id]`` of every test clip."""
        return p_own_id(self.test_logits, self.test_classes)

    def id_accuracy(self, split: str = "test") -> float:
        logits, classes = ((self.test_logits, self.test_classes) if split == "test"
                           else (self.train_logits, self.train_classes))
        return id_accuracy(logits, classes)

    def confusion(self) -> pd.DataFrame:
        """Test-clip confusion matrix as a DataFrame (rows: true id, columns: predicted id)."""
        ids = sorted(self.mapping, key=self.mapping.get)
        matrix = confusion_matrix(self.test_logits, self.test_classes, len(ids))
        return pd.DataFrame(matrix, index=pd.Index(ids, name="true id"), columns=pd.Index(ids, name="predicted"))

    def metrics(self, max_fpr: float = 0.1) -> dict[str, dict]:
        """metrics.json entries ``{"<name> · <score label>": {network, score, model, options, recipe, per_id, means,
        pooled, n_params, train_seconds, hyperparameters}}`` (``network``: the run's name, ``score``: the score key,
        ``model``, ``options``, ``recipe``: as the run's fields)."""
        out = {}
        for key, values in self.scores.items():
            out[f"{self.name} · {SCORE_LABELS.get(key, key)}"] = {
                "network": self.name, "score": key, "model": self.model_key, "options": dict(self.options),
                "recipe": self.recipe.as_dict(),
                **evaluate_scores(self.test_table, values, max_fpr=max_fpr), "n_params": self.n_params,
                "train_seconds": round(self.history.seconds, 2), "hyperparameters": dict(self.hyperparameters)}
        return out


def run_classifier(name: str, model, train: ClipInputs, test: ClipInputs, recipe: ClassifierRecipe, *, device="auto",
                   seed: int = 0, progress: bool | None = None, model_key: str | None = None,
                   hyperparameters: dict | None = None,
                   reference: ClipInputs | None = None, precise_bn: bool = True,
                   heldout: ClipInputs | None = None) -> ClassifierRun:
    """Train ``model`` on ``train`` (classes = the ids present there) as ``recipe`` says (a
    :class:`asd_utils.recipes.ClassifierRecipe`, e.g. ``asd_utils.profiles.classifier_recipe(PROFILE, "05")``), score
    ``test`` with every classifier score.

    ``model`` comes from :func:`build_classifier` with ``num_classes = len(class_mapping(train ids))``, or is any
    ``nn.Module`` that maps the standardised log-mels ``[B, n_mels, T]`` to an embedding ``[B, D]``: it is then wrapped
    with :func:`asd_utils.models.as_classifier` (a softmax head on top; the run's ``model`` is the wrapper).
    ``reference``: normal clips whose embeddings define "normal" for the distance scores (default: ``train``). A
    network trained on a subsample can take every training clip as reference: a forward pass costs less than a
    training step, and the per-id mean and covariance of the Mahalanobis score need many clips.
    The run's ``train_*`` fields describe the reference clips. ``precise_bn`` recomputes the BatchNorm statistics
    on the training clips after training (:func:`recalibrate_batchnorm`), counted as training time.
    ``model_key`` (the model's :data:`asd_utils.model_registry.CLASSIFIERS` key), the constructor options of a
    :func:`build_classifier` model and the recipe are recorded in the metrics as data, ``hyperparameters`` (e.g. the
    dataset and seed) with the clip counts added.
    ``progress=None`` shows a progress bar unless the environment sets ``TQDM_DISABLE`` (headless runs: tqdm's
    notebook bar ignores that variable by itself). The recipe's crops, cosine decay and label smoothing: see
    :func:`train_classifier`.
    ``heldout``: normal clips the network does not train on; their id accuracy after each epoch (eval mode) is kept
    in ``history.epoch_metrics`` for a training curve (it costs one forward pass over them per epoch).
    """
    if progress is None:
        progress = progress_bars_wanted()
    mapping = class_mapping(train.table["machine_id"])
    model = as_classifier(model, len(mapping), n_mels=train.logmels.shape[1])  # a plain nn.Module gets a head
    if getattr(model, "num_classes", len(mapping)) != len(mapping):
        raise ValueError(f"model has {model.num_classes} classes but the training data has {len(mapping)} ids")
    train_classes = class_indices(train.table["machine_id"], mapping)
    test_classes = class_indices(test.table["machine_id"], mapping)
    norm = logmel_stats(train.logmels)
    device = as_device(device)
    started = time.perf_counter()
    frozen = frozen_embeddings(model, train, norm, device) if _is_frozen_baseline(model) else None
    embedding_seconds = time.perf_counter() - started
    on_epoch = None
    if heldout is not None and frozen is None:  # (a frozen baseline's head trains in a second: no curve needed)
        heldout_classes = class_indices(heldout.table["machine_id"], mapping)

        def on_epoch(net, epoch):
            logits, _ = predict(net, heldout, norm, device)
            return {"epoch": epoch + 1, "heldout_id_accuracy": id_accuracy(logits, heldout_classes)}
    history = train_classifier(model, train, train_classes, norm, recipe, device=device, seed=seed, progress=progress,
                               embeddings=frozen, desc=name, on_epoch=on_epoch)
    if reference is None or reference.table["path"].tolist() == train.table["path"].tolist():
        reference = train
    started = time.perf_counter()
    if precise_bn:
        recalibrate_batchnorm(model, train, norm, device, batch_size=max(recipe.batch_size, 8))
    # a frozen backbone's one embedding pass and the BatchNorm recalibration count as training time
    history.seconds += embedding_seconds + time.perf_counter() - started
    ref_logits, ref_emb = predict(model, reference, norm, device, embeddings=frozen if reference is train else None)
    ref_classes = class_indices(reference.table["machine_id"], mapping)
    test_logits, test_emb = predict(model, test, norm, device)
    hyper = {**(hyperparameters or {}), "n_train_clips": len(train),
             "n_reference_clips": len(reference), "precise_bn": precise_bn, "classes": sorted(mapping, key=mapping.get)}
    spec = getattr(model, "spec", None) or {}
    run = ClassifierRun(name, model, mapping, norm, history, hyper, reference.table, test.table,
                        ref_logits, ref_emb, test_logits, test_emb, model_key=model_key,
                        options=dict(spec.get("options", {})), recipe=recipe)
    run.scores = classifier_scores(test_logits, test_emb, test_classes, ref_emb, ref_classes)
    return run
