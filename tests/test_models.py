"""Unit tests of asd_utils.models: shapes, parameter counts, torchvision naming, pretrained fallback, ArcFace,
autoencoder training and scoring. Runs in well under a minute on a 2-core CPU."""
from __future__ import annotations

import math
import re
import sys
import types
import urllib.error
import warnings

import pytest
import torch
import torch.nn.functional as F

from asd_utils.models import (
    VAE,
    ArcFace,
    DcaseBaselineAE,
    ResNet50Baseline,
    SepSTgramNet,
    STgramNet,
    TgramNet,
    count_parameters,
    load_imagenet_weights,
    n_frames_for,
    parameter_summary,
    resnet18,
    resnet50,
    vae_loss,
)

pytestmark = pytest.mark.torch_threads(2)  # full-size ResNets on 10 s clips

B, N_SAMPLES, N_MELS, N_FRAMES = 2, 160000, 128, 313
RESNET18_NO_FC = 11_689_512 - (512 * 1000 + 1000)  # backbone of the STgram nets
TGRAM_PARAMS = 128 * 1024 + 3 * (2 * 128 + 128 * 128 * 3)  # filterbank, 3 x (norm weight + bias, conv)


@pytest.fixture
def clip():
    g = torch.Generator().manual_seed(0)
    return torch.randn(B, N_SAMPLES, generator=g), torch.randn(B, N_MELS, N_FRAMES, generator=g)


# ---------------------------------------------------------------------------------------------- autoencoders
def test_dcase_ae_shapes_and_parameter_count():
    ae = DcaseBaselineAE()
    assert count_parameters(ae) == 267_928
    assert ae(torch.randn(4, 640)).shape == (4, 640)
    # 8 more code units: 8*128 weights + 8 biases in, 2*8 BatchNorm parameters, 8*128 weights out
    assert count_parameters(DcaseBaselineAE(bottleneck=16)) == 267_928 + 2 * 8 * 128 + 8 + 2 * 8


def test_vae_layer_parameter_counts_match_report():
    expected = [256_400, 160_400, 8_020, 8_020, 8_400, 160_400, 256_640]
    df = parameter_summary(VAE(), (640,))
    assert df["layer"].tolist() == [f"Linear-{i}" for i in range(1, 8)]
    assert df["n_params"].tolist() == expected
    assert df.attrs["trainable_params"] == sum(expected)
    assert df["output_shape"].tolist()[-1] == [-1, 640]


def test_vae_dropout_variant_matches_report_table():
    df = parameter_summary(VAE(dropout=0.2), (640,))
    names = ["Linear", "BatchNorm1d", "Dropout", "Linear", "BatchNorm1d", "Linear", "Linear", "Linear",
             "BatchNorm1d", "Dropout", "Linear", "BatchNorm1d", "Linear"]
    assert df["layer"].tolist() == [f"{n}-{i}" for i, n in enumerate(names, 1)]
    assert df["n_params"].tolist() == [256_400, 800, 0, 160_400, 800, 8_020, 8_020, 8_400, 800, 0, 160_400, 800,
                                       256_640]
    bn = parameter_summary(VAE(batch_norm=True), (640,))
    assert [r for r in bn["layer"] if r.startswith("BatchNorm1d")] == ["BatchNorm1d-2", "BatchNorm1d-4",
                                                                      "BatchNorm1d-8", "BatchNorm1d-10"]


def test_vae_forward_and_loss():
    vae = VAE(batch_norm=True).eval()
    x = torch.randn(3, 640)
    recon, mu, logvar = vae(x)
    assert recon.shape == (3, 640) and mu.shape == (3, 20) and logvar.shape == (3, 20)
    # eval mode decodes the mean: forward == reconstruct
    torch.testing.assert_close(recon, vae.reconstruct(x))
    # the KL term is zero exactly for mu=0, logvar=0 and positive otherwise
    z = torch.zeros(3, 20)
    assert vae_loss(x, x, z, z, kl_weight=1.0).item() == pytest.approx(0.0, abs=1e-7)
    assert vae_loss(x, x, z + 1, z, kl_weight=1.0).item() == pytest.approx(0.5 * 20, rel=1e-5)


def _low_rank_batch(n=64, dim=640, rank=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, rank, generator=g) @ torch.randn(rank, dim, generator=g) + 3.0


@pytest.mark.parametrize("make", [DcaseBaselineAE, lambda: VAE(batch_norm=True)], ids=["dcase_ae", "vae_bn"])
def test_autoencoder_loss_falls(make):
    torch.manual_seed(0)
    model, x = make(), _low_rank_batch()
    err_before = model.reconstruction_error(x).mean().item()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(50):
        opt.zero_grad()
        loss = model.loss(x)
        assert loss.dim() == 0
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    assert model.reconstruction_error(x).mean().item() < err_before


def test_loss_accepts_tuple_and_dict_batches():
    ae, x = DcaseBaselineAE().eval(), torch.randn(4, 640)
    assert ae.loss((x,)).item() == pytest.approx(ae.loss(x).item())
    assert ae.loss({"x": x}).item() == pytest.approx(ae.loss(x).item())
    with pytest.raises(TypeError):
        ae.loss(3.0)


@pytest.mark.parametrize("make", [DcaseBaselineAE, lambda: VAE(dropout=0.2)], ids=["dcase_ae", "vae_dropout"])
def test_reconstruction_error_shape_determinism_and_mode(make):
    model, x = make(), torch.randn(5, 640)
    model.train()
    e1, e2 = model.reconstruction_error(x), model.reconstruction_error(x)
    assert e1.shape == (5,) and not e1.requires_grad
    torch.testing.assert_close(e1, e2, rtol=0, atol=0)
    assert model.training  # mode restored
    model.eval()
    out = model(x)
    recon = out[0] if isinstance(out, tuple) else out
    torch.testing.assert_close(e1, ((recon - x) ** 2).mean(dim=1))
    clips = torch.randn(2, 7, 640)  # leading dims kept: [clips, vectors, 640] -> [clips, vectors]
    assert model.reconstruction_error(clips).shape == (2, 7)


def test_parameter_summary_totals_and_restores_mode():
    ae = DcaseBaselineAE().train()
    df = parameter_summary(ae, (640,))
    assert list(df.columns) == ["layer", "output_shape", "n_params"]
    assert df.attrs["trainable_params"] == df.attrs["total_params"] == 267_928 == df["n_params"].sum()
    assert df["layer"].iloc[0] == "Linear-1" and df["output_shape"].iloc[0] == [-1, 128]
    assert ae.training
    frozen = ResNet50Baseline(num_classes=3, pretrained=False)
    df = parameter_summary(frozen, {"logmel": (64, 64)})
    assert df.attrs["trainable_params"] == 2048 * 3 + 3
    assert df.attrs["total_params"] == 25_557_032 - 2049 * 1000 + 2048 * 3 + 3


# --------------------------------------------------------------------------------------------------- ResNet
_RESNET18_PARAMS = """
conv1.weight 64,3,7,7
bn1.weight 64|bn1.bias 64
layer1.0.conv1.weight 64,64,3,3|layer1.0.bn1.weight 64|layer1.0.bn1.bias 64
layer1.0.conv2.weight 64,64,3,3|layer1.0.bn2.weight 64|layer1.0.bn2.bias 64
layer1.1.conv1.weight 64,64,3,3|layer1.1.bn1.weight 64|layer1.1.bn1.bias 64
layer1.1.conv2.weight 64,64,3,3|layer1.1.bn2.weight 64|layer1.1.bn2.bias 64
layer2.0.conv1.weight 128,64,3,3|layer2.0.bn1.weight 128|layer2.0.bn1.bias 128
layer2.0.conv2.weight 128,128,3,3|layer2.0.bn2.weight 128|layer2.0.bn2.bias 128
layer2.0.downsample.0.weight 128,64,1,1|layer2.0.downsample.1.weight 128|layer2.0.downsample.1.bias 128
layer2.1.conv1.weight 128,128,3,3|layer2.1.bn1.weight 128|layer2.1.bn1.bias 128
layer2.1.conv2.weight 128,128,3,3|layer2.1.bn2.weight 128|layer2.1.bn2.bias 128
layer3.0.conv1.weight 256,128,3,3|layer3.0.bn1.weight 256|layer3.0.bn1.bias 256
layer3.0.conv2.weight 256,256,3,3|layer3.0.bn2.weight 256|layer3.0.bn2.bias 256
layer3.0.downsample.0.weight 256,128,1,1|layer3.0.downsample.1.weight 256|layer3.0.downsample.1.bias 256
layer3.1.conv1.weight 256,256,3,3|layer3.1.bn1.weight 256|layer3.1.bn1.bias 256
layer3.1.conv2.weight 256,256,3,3|layer3.1.bn2.weight 256|layer3.1.bn2.bias 256
layer4.0.conv1.weight 512,256,3,3|layer4.0.bn1.weight 512|layer4.0.bn1.bias 512
layer4.0.conv2.weight 512,512,3,3|layer4.0.bn2.weight 512|layer4.0.bn2.bias 512
layer4.0.downsample.0.weight 512,256,1,1|layer4.0.downsample.1.weight 512|layer4.0.downsample.1.bias 512
layer4.1.conv1.weight 512,512,3,3|layer4.1.bn1.weight 512|layer4.1.bn1.bias 512
layer4.1.conv2.weight 512,512,3,3|layer4.1.bn2.weight 512|layer4.1.bn2.bias 512
fc.weight 1000,512|fc.bias 1000
"""


def _expected_resnet18_state_dict_shapes() -> dict:
    """torchvision's resnet18 state dict: the 62 parameters above plus 3 buffers for each of the 20 BatchNorms."""
    expected = {}
    for item in _RESNET18_PARAMS.replace("\n", "|").split("|"):
        if item.strip():
            name, shape = item.split()
            expected[name] = tuple(int(s) for s in shape.split(","))
    for name, shape in list(expected.items()):
        if re.search(r"(bn\d|downsample\.1)\.weight$", name) or name == "bn1.weight":
            prefix = name[: -len("weight")]
            expected[prefix + "running_mean"] = shape
            expected[prefix + "running_var"] = shape
            expected[prefix + "num_batches_tracked"] = ()
    return expected


def test_resnet18_state_dict_matches_torchvision_names_and_shapes():
    expected = _expected_resnet18_state_dict_shapes()
    sd = resnet18().state_dict()
    assert len(expected) == 122 and len(sd) == 122
    assert len([k for k in sd if not k.endswith("num_batches_tracked")]) == 102
    assert {k: tuple(v.shape) for k, v in sd.items()} == expected
    assert count_parameters(resnet18()) == 11_689_512


def test_resnet50_state_dict_pattern_and_parameter_count():
    model = resnet50()
    assert count_parameters(model) == 25_557_032
    sd = model.state_dict()
    assert len(sd) == 320 and len(dict(model.named_parameters())) == 161
    bn = r"(weight|bias|running_mean|running_var|num_batches_tracked)"
    pattern = re.compile(
        rf"^(conv1\.weight|bn1\.{bn}|fc\.(weight|bias)|layer[1-4]\.\d+\."
        rf"(conv[1-3]\.weight|bn[1-3]\.{bn}|downsample\.0\.weight|downsample\.1\.{bn}))$"
    )
    assert [k for k in sd if not pattern.match(k)] == []
    blocks = {layer: len({k.split(".")[1] for k in sd if k.startswith(layer + ".")}) for layer in
              ("layer1", "layer2", "layer3", "layer4")}
    assert blocks == {"layer1": 3, "layer2": 4, "layer3": 6, "layer4": 3}
    assert sorted({k.split(".downsample")[0] for k in sd if ".downsample." in k}) == [
        "layer1.0", "layer2.0", "layer3.0", "layer4.0"]
    assert tuple(sd["layer1.0.conv3.weight"].shape) == (256, 64, 1, 1)
    assert tuple(sd["layer1.0.downsample.0.weight"].shape) == (256, 64, 1, 1)
    assert tuple(sd["layer4.2.bn3.running_var"].shape) == (2048,)
    assert tuple(sd["fc.weight"].shape) == (1000, 2048)
    assert model.layer2[0].conv2.stride == (2, 2) and model.layer2[0].conv1.stride == (1, 1)  # v1.5


@pytest.mark.parametrize("in_channels", [1, 2, 5])
def test_resnet_any_number_of_input_channels(in_channels):
    model = resnet18(num_classes=7, in_channels=in_channels).eval()
    x = torch.randn(2, in_channels, 64, 80)
    assert model(x).shape == (2, 7)
    assert model.forward_features(x).shape == (2, 512)
    assert tuple(model.conv1.weight.shape) == (64, in_channels, 7, 7)


def test_resnet50_embedding_shape():
    assert resnet50(num_classes=3, in_channels=1).eval().forward_features(torch.randn(1, 1, 64, 64)).shape == (1, 2048)


def _fake_torchvision(state_dict):
    """A stand-in torchvision module whose ResNet18_Weights.IMAGENET1K_V1 serves ``state_dict``."""
    weights = types.SimpleNamespace(get_state_dict=lambda progress=True, **kw: state_dict)
    models = types.SimpleNamespace(ResNet18_Weights=types.SimpleNamespace(IMAGENET1K_V1=weights))
    return types.SimpleNamespace(models=models)


def test_pretrained_weights_load_unchanged_and_adapt_channels(monkeypatch):
    torch.manual_seed(1)
    reference = resnet18().eval()
    monkeypatch.setitem(sys.modules, "torchvision", _fake_torchvision(reference.state_dict()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = resnet18(pretrained=True).eval()
        gray = resnet18(num_classes=3, in_channels=1, pretrained=True).eval()
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(same(x), reference(x))
    # a 1-channel net on a grey image == the RGB net on that image replicated to 3 channels
    g = torch.randn(2, 1, 64, 64)
    torch.testing.assert_close(gray.forward_features(g), reference.forward_features(g.expand(-1, 3, -1, -1)),
                               rtol=1e-4, atol=1e-4)
    assert gray.fc.out_features == 3


def test_pretrained_via_torch_hub_when_torchvision_missing(monkeypatch):
    torch.manual_seed(2)
    reference = resnet18()
    calls = []

    def fake_hub(url, **kwargs):
        calls.append(url)
        return reference.state_dict()

    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fake_hub)
    model = resnet18(pretrained=True)
    assert calls == ["https://download.pytorch.org/models/resnet18-f37072fd.pth"]
    torch.testing.assert_close(model.conv1.weight, reference.conv1.weight)


def test_pretrained_offline_falls_back_with_warning(monkeypatch):
    def offline(url, **kwargs):
        raise urllib.error.URLError("offline (test)")

    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.warns(UserWarning, match="RANDOM initialisation"):
        model = resnet18(num_classes=4, in_channels=1, pretrained=True)
    assert model(torch.randn(1, 1, 64, 64)).shape == (1, 4)
    with pytest.warns(UserWarning, match="resnet50"):
        assert not load_imagenet_weights(resnet50(), "resnet50")
    with pytest.warns(UserWarning, match="RANDOM"):
        ResNet50Baseline(num_classes=3)  # pretrained=True by default



def test_build_classifier_says_whether_every_backbone_got_imagenet_weights(monkeypatch):
    """``weights_loaded`` comes from the backbones themselves (both of SepSTgramNet's), not from a warning's text."""
    from asd_utils.classifiers import build_classifier

    references = {"resnet18": resnet18(), "resnet50": resnet50()}
    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url",
                        lambda url, **kwargs: references["resnet50" if "resnet50" in url else "resnet18"].state_dict())
    assert build_classifier("sepstgramnet", 3, pretrained_backbone=True).weights_loaded
    assert build_classifier("resnet50_baseline", 3, pretrained=True).weights_loaded
    assert not build_classifier("stgramnet", 3).weights_loaded  # not requested

    def offline(url, **kwargs):
        raise urllib.error.URLError("offline (test)")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.warns(UserWarning, match="RANDOM initialisation"):
        model = build_classifier("stgramnet", 3, pretrained_backbone=True)
    assert not model.weights_loaded and not model.backbone.imagenet_weights_loaded

# ----------------------------------------------------------------------------------------- STgram family
def test_tgram_shape_and_parameters():
    assert n_frames_for(160000) == 313 and n_frames_for(16000) == 32
    tgram = TgramNet()
    assert count_parameters(tgram) == TGRAM_PARAMS
    assert tgram(torch.randn(2, 160000)).shape == (2, 128, 313)
    assert tgram(torch.randn(2, 1, 160000)).shape == (2, 128, 313)
    assert tgram(torch.randn(3, 16000)).shape == (3, 128, 32)  # any clip length: trains on crops, scores clips
    with pytest.raises(ValueError, match=r"\[B, N\]"):
        tgram(torch.randn(2, 2, 16000))


def test_stgramnet_forward_backward(clip):
    wave, logmel = clip
    model = STgramNet(num_classes=3)
    assert count_parameters(model) == RESNET18_NO_FC + TGRAM_PARAMS + 512 * 3 + 3
    image = model.stgram(wave, logmel)
    assert image.shape == (B, 3, 128, 313)
    torch.testing.assert_close(image[:, 0], logmel)
    assert torch.count_nonzero(image[:, 2]) == 0
    logits, emb = model(wave=wave, logmel=logmel)
    assert logits.shape == (B, 3) and emb.shape == (B, 512)
    loss = model.loss({"wave": wave, "logmel": logmel, "label": torch.tensor([0, 2])})
    loss.backward()
    assert model.tgram.conv_extractor.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="needs `wave`"):
        model(logmel=logmel)


def test_sepstgramnet_forward_and_structure(clip):
    wave, logmel = clip
    model = SepSTgramNet(num_classes=3, hidden=256).eval()
    assert count_parameters(model) == 2 * RESNET18_NO_FC + TGRAM_PARAMS + (1024 * 256 + 256) + (256 * 3 + 3)
    logits, emb = model(wave=wave, logmel=logmel)
    assert logits.shape == (B, 3) and emb.shape == (B, 256)
    assert (emb >= 0).all()  # input of the last layer = after the ReLU
    torch.testing.assert_close(logits, model.head(emb))


def test_resnet50_baseline_frozen_backbone(clip):
    _, logmel = clip
    model = ResNet50Baseline(num_classes=3, pretrained=False)
    model.train()
    assert not model.backbone.training and model.head.training
    assert count_parameters(model) == 2048 * 3 + 3
    emb = model.embed(logmel)
    assert emb.shape == (B, 2048) and not emb.requires_grad
    logits, emb2 = model(logmel=logmel)
    assert logits.shape == (B, 3)
    torch.testing.assert_close(emb, emb2)
    loss = model.loss({"embedding": emb, "label": torch.tensor([1, 2])})
    loss.backward()
    assert model.head.weight.grad is not None
    assert all(p.grad is None for p in model.backbone.parameters())


@pytest.mark.parametrize("cls", [STgramNet, SepSTgramNet])
def test_arcface_head_in_classifiers(cls, clip):
    wave, logmel = clip
    model = cls(num_classes=3, head="arcface").eval()
    labels = torch.tensor([0, 1])
    plain, emb = model(wave=wave, logmel=logmel)
    margin, _ = model(wave=wave, logmel=logmel, labels=labels)
    assert plain.abs().max() <= 30.0 + 1e-4
    target = F.one_hot(labels, 3).bool()
    assert (margin[target] < plain[target]).all()
    torch.testing.assert_close(margin[~target], plain[~target])
    with pytest.raises(ValueError, match="head"):
        cls(num_classes=3, head="cosface")


# --------------------------------------------------------------------------------------------------- ArcFace
def test_arcface_without_labels_is_scaled_cosine():
    torch.manual_seed(0)
    head = ArcFace(16, 5, margin=0.7, scale=30.0)
    e = torch.randn(8, 16) * 10
    logits = head(e)
    expected = 30.0 * F.normalize(e, dim=1) @ F.normalize(head.weight, dim=1).T
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-4)
    assert logits.abs().max() <= 30.0


def test_arcface_margin_on_target_class_only():
    torch.manual_seed(0)
    head = ArcFace(16, 5, margin=0.5, scale=10.0)
    e, labels = torch.randn(8, 16), torch.randint(0, 5, (8,))
    plain, margin = head(e), head(e, labels)
    rows = torch.arange(8)
    theta = torch.acos(plain[rows, labels] / 10.0)
    ok = theta + 0.5 < math.pi
    torch.testing.assert_close(margin[rows, labels][ok], 10.0 * torch.cos(theta[ok] + 0.5), rtol=1e-4, atol=1e-4)
    assert (margin[rows, labels] < plain[rows, labels]).all()
    mask = F.one_hot(labels, 5).bool()
    torch.testing.assert_close(margin[~mask], plain[~mask])


def _target_logit_vs_angle(easy_margin: bool):
    head = ArcFace(2, 2, margin=0.7, scale=30.0, easy_margin=easy_margin)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    angles = torch.linspace(0, math.pi, 721)
    e = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return angles, head(e, torch.zeros(721, dtype=torch.long))[:, 0].detach()


def test_arcface_target_logit_never_increases_with_angle():
    angles, target = _target_logit_vs_angle(easy_margin=False)
    assert torch.isfinite(target).all()
    assert (target[1:] <= target[:-1] + 1e-4).all()  # plain cos(theta + m) would rise again past pi - m
    past = angles > math.pi - 0.7  # linear continuation s * (cos(theta) - m sin m)
    torch.testing.assert_close(target[past], 30.0 * (torch.cos(angles[past]) - 0.7 * math.sin(0.7)),
                               rtol=1e-4, atol=1e-3)


def test_arcface_easy_margin_keeps_plain_cosine_beyond_90_degrees():
    angles, target = _target_logit_vs_angle(easy_margin=True)
    wide = angles > math.pi / 2 + 1e-3
    torch.testing.assert_close(target[wide], 30.0 * torch.cos(angles[wide]), rtol=1e-4, atol=1e-3)
    narrow = (angles > 0.01) & (angles < math.pi / 2 - 1e-3)  # cos is clamped to 1 - eps near 0
    torch.testing.assert_close(target[narrow], 30.0 * torch.cos(angles[narrow] + 0.7), rtol=1e-4, atol=1e-3)


def test_arcface_gradients_flow_and_are_finite():
    head = ArcFace(4, 3)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]]))
    e = torch.tensor([[0, 3.0, 0, 0],  # exactly on its class centre: cos = 1 (clamped, no infinite sqrt gradient)
                      [0, 0, -2.0, 0],  # exactly opposite its centre: theta = pi
                      [0.3, -0.2, 0.5, 0.1],
                      [1.0, 1.0, 0.0, 1.0]], requires_grad=True)
    labels = torch.tensor([1, 2, 0, 1])
    F.cross_entropy(head(e, labels), labels).backward()
    assert torch.isfinite(e.grad).all() and torch.isfinite(head.weight.grad).all()
    assert head.weight.grad.abs().sum() > 0 and e.grad[2:].abs().sum() > 0
