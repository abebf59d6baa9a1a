"""`costlab arch`, `sweep`, `list`: output shapes, torch-free, exit 2 on bad input (numbers from the MobileNet paper)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import one_line_exit_2


_one_line_error = one_line_exit_2


def test_arch_json_shape(run):
    result = run("arch", "mobilenet_v1", "--alpha", "0.75", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) >= {"name", "resolution", "alpha", "convention", "params", "macs", "flops", "layers"}
    assert (data["name"], data["resolution"], data["alpha"], data["convention"]) == ("mobilenet_v1", 224, 0.75, "paper")
    assert abs(data["macs"] / 1e6 - 325) < 1  # MobileNet Table 6
    assert data["flops"] == 2 * data["macs"]
    # the paper's layers at alpha 0.75: the stem 3x3 conv 3 -> int(0.75 * 32) = 24 at stride 2 (112x112 out),
    # the classifier 768 -> 1000 with bias
    layers = {row["name"]: row for row in data["layers"]}
    assert layers["stem.conv"]["macs"] == 3 * 3 * 3 * 24 * 112 * 112 == 8_128_512
    assert layers["classifier.fc"]["params"] == 768 * 1000 + 1000
    assert set(data["layers"][0]) >= {"name", "type", "input_shape", "output_shape", "kernel", "stride", "groups",
                                      "params", "macs"}


def test_arch_table_has_totals_and_type_shares(run):
    result = run("arch", "mobilenet_v1")
    assert result.exit_code == 0
    assert "stage7.4.pw.conv" in result.stdout
    assert "total: 4,231,976 params" in result.stdout
    assert "1x1 conv 94.9%" in result.stdout  # Table 2: 94.86% of mult-adds in 1x1 convolutions


def test_arch_by_stage_and_type(run):
    stage = run("arch", "mobilenet_v2", "--by", "stage", "--format", "csv")
    assert stage.exit_code == 0
    assert stage.stdout.splitlines()[0].startswith("stage,params")
    kinds = json.loads(run("arch", "mobilenet_v2", "--by", "type", "--format", "json").stdout)["groups"]
    assert {"pointwise", "depthwise", "conv", "linear"} <= {g["type"] for g in kinds}


def test_arch_rho_resolution_and_batch(run):
    data = json.loads(run("arch", "mobilenet_v1", "--rho", "0.571", "--batch", "4", "--format", "json").stdout)
    assert data["resolution"] == 128
    assert abs(data["macs"] / 4 / 1e6 - 186) < 1  # Table 7


def test_arch_toml(run):
    result = run("arch", "specs/examples/tiny_mbconv.toml", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["name"] == "tiny_mbconv"


def test_sweep_rows(run):
    result = run("sweep", "mobilenet_v1", "--alpha", "0.25,1.0", "--resolution", "128,224", "--format", "json")
    rows = json.loads(result.stdout)
    assert [(r["alpha"], r["resolution"]) for r in rows] == [(0.25, 128), (0.25, 224), (1.0, 128), (1.0, 224)]
    assert abs(rows[1]["macs"] / 1e6 - 41) < 1 and abs(rows[2]["macs"] / 1e6 - 186) < 1
    assert all(set(r) == {"alpha", "resolution", "params", "macs", "flops"} for r in rows)


def test_sweep_chart(run, tmp_path):
    path = tmp_path / "sweep.png"
    result = run("sweep", "mobilenet_v2", "--alpha", "0.5,1.0", "--resolution", "160,224", "--chart", str(path))
    assert result.exit_code == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_list(run):
    rows = json.loads(run("list", "--format", "json").stdout)
    by_name = {r["name"]: r for r in rows}
    assert by_name["efficientnet_b7"]["resolution"] == 600
    assert by_name["mobilenet_v1"]["family"] == "mobilenet_v1"


@pytest.mark.parametrize("args, fragment", [
    (["arch", "mobilenetv2"], "'mobilenetv2'"),
    (["arch", "efficientnet_b9"], "efficientnet_b"),
    (["arch", "mobilenet_v2", "--alpha", "0"], "alpha must be a finite number > 0, got 0"),
    (["arch", "mobilenet_v2", "--alpha", "-1"], "got -1"),
    (["arch", "inception_v3", "--resolution", "16"], "resolution 16 is too small for inception_v3"),
    (["sweep", "mobilenet_v2", "--alpha", "0.5,abc"], "'abc'"),
    (["sweep", "mobilenet_v2", "--alpha", "0.5,-1"], "'-1'"),
    (["sweep", "squeezenet1_0", "--resolution", "224,8"], "resolution 8 is too small for squeezenet1_0"),
])
def test_bad_input_exit_2(run, args, fragment):
    _one_line_error(run(*args), fragment)


def test_malformed_toml_exit_2(run, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\nresolution = = 3\n')
    _one_line_error(run("arch", str(path)), "bad.toml")


@pytest.mark.parametrize("args", [["arch", "efficientnet_b7"], ["sweep", "mobilenet_v2"], ["list"]])
def test_no_torch_import(args):
    code = ("import sys\nfrom costlab.cli import main\ntry:\n    main(%r)\nexcept SystemExit as e:\n    assert not e.code\n"
            "bad = [m for m in ('torch', 'torchvision', 'fvcore') if m in sys.modules]\nassert not bad, bad\n") % args
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_arch_chart(run, tmp_path):
    out = tmp_path / "layers.png"
    result = run("arch", "mobilenet_v2", "--chart", str(out), "--format", "json")
    assert result.exit_code == 0
    # torchvision's recorded num_params for mobilenet_v2, and a real PNG beside it
    assert json.loads(result.stdout)["params"] == 3_504_872
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = run("arch", "mobilenet_v2", "--chart", str(tmp_path / "layers.pdf"))
    assert bad.exit_code == 2 and "layers.pdf" in bad.stderr


def test_alpha_that_leaves_no_channels_names_alpha(run):
    # MobileNetV1's first layer has 32 filters (paper, Table 1): int(32 * alpha) is 0 below alpha 1/32
    _one_line_error(run("arch", "mobilenet_v1", "--alpha", "0.001"), "alpha 0.001 leaves the stem with 0 channels")
    assert "alpha >= 0.03125" in run("arch", "mobilenet_v1", "--alpha", "0.03").stderr
    assert run("arch", "mobilenet_v1", "--alpha", "0.03125").exit_code == 0


def test_unreadable_toml_exit_2(run, tmp_path):
    bad = tmp_path / "x.toml"
    bad.write_bytes(b"\xff\xfe")
    _one_line_error(run("arch", str(bad)), "not UTF-8")
    (tmp_path / "d.toml").mkdir()
    _one_line_error(run("arch", str(tmp_path / "d.toml")), "is a directory")


@pytest.mark.parametrize("variant,width,depth", [("b1", 1.0, 1.1), ("b2", 1.1, 1.2), ("b3", 1.2, 1.4),
                                                 ("b4", 1.4, 1.8), ("b5", 1.6, 2.2), ("b6", 1.8, 2.6),
                                                 ("b7", 2.0, 3.1)])
def test_compound_scaling_of_b0_gives_torchvision_b1_to_b7(run, variant, width, depth):
    # EfficientNet's (width, depth) coefficients applied to B0 with --alpha/--depth must give the
    # parameter count torchvision records for that variant's weights
    from torchvision.models import get_model_weights

    result = run("arch", "efficientnet_b0", "--alpha", str(width), "--depth", str(depth), "--format", "json")
    recorded = get_model_weights(f"efficientnet_{variant}").DEFAULT.meta["num_params"]
    assert json.loads(result.stdout)["params"] == recorded


def test_depth_must_be_positive(run):
    result = run("arch", "efficientnet_b0", "--depth", "0")
    assert result.exit_code == 2 and "depth" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name, smallest", [("inception_v3", 75), ("squeezenet1_0", 21), ("squeezenet1_1", 17),
                                            ("googlenet", 15), ("densenet121", 29)])
def test_too_small_an_input_names_the_smallest_torchvisions_model_takes(run, name, smallest):
    """The smallest input named in the error is the one where torchvision's own model (on meta) starts to run."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    kwargs = {"aux_logits": False, "init_weights": False} if name in ("inception_v3", "googlenet") else {}
    with torch.device("meta"):
        model = getattr(torchvision.models, name)(**kwargs).eval()
        model(torch.empty(1, 3, smallest, smallest))
        with pytest.raises(RuntimeError):
            model(torch.empty(1, 3, smallest - 1, smallest - 1))
    for size in (smallest - 1, 1):
        one_line_exit_2(run("arch", name, "--resolution", str(size)), f"resolution {size} is too small for {name}",
                        f"the smallest it takes is {smallest}")
    assert run("arch", name, "--resolution", str(smallest)).exit_code == 0


@pytest.mark.parametrize("name, size", [("resnet50", 1), ("mobilenet_v2", 7), ("efficientnet_b0", 13)])
def test_an_input_below_the_total_stride_counts_as_pytorch_runs_it(run, name, size):
    """PyTorch runs these nets on inputs smaller than their strides multiplied (32): costlab counts them the same."""
    import json

    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from conftest import flop_counter_macs

    with torch.device("meta"):
        model = getattr(torchvision.models, name)().eval()
        macs = flop_counter_macs(model, torch.empty(1, 3, size, size))
    result = run("arch", name, "--resolution", str(size), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["macs"] == macs


def test_depth_is_reported_and_counts_as_torchvisions_depth_mult(run):
    """`--depth 2` on EfficientNet-B0 is torchvision's own builder at depth_mult 2.0 (params, FlopCounterMode / 2), and
    the output says so: 'depth 2' in the table's first line, "depth": 2.0 in JSON."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

    from conftest import flop_counter_macs, n_params

    settings, last_channel = _efficientnet_conf("efficientnet_b0", width_mult=1.0, depth_mult=2.0)
    with torch.device("meta"):
        model = EfficientNet(settings, 0.2, last_channel=last_channel).eval()
        macs = flop_counter_macs(model, torch.empty(1, 3, 224, 224))
    data = json.loads(run("arch", "efficientnet_b0", "--depth", "2", "--format", "json").stdout)
    assert (data["depth"], data["params"], data["macs"]) == (2.0, n_params(model), macs)
    assert ", depth 2, " in run("arch", "efficientnet_b0", "--depth", "2").stdout.splitlines()[0]
    assert "depth" not in json.loads(run("arch", "efficientnet_b0", "--format", "json").stdout)
