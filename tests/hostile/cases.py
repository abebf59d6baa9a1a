"""The hostile-input corpus: one Case per command line, the files it needs and what the contract says must happen.

Contract (README "Exit codes and errors", shared/DESIGN.md "CLI contract"):
  * exit 0 ok, 1 a check failed, 2 bad usage or bad input; nothing else, whatever user code does;
  * on exit 2: exactly one stderr line starting 'costlab: error: ' naming the fragments, stdout empty;
  * never 'Traceback' on stderr;
  * no file left behind (or changed) that the case does not expect; links, FIFOs and folders keep their kind;
  * every case finishes within its time limit.

A case's argv, env and file texts may hold '{tmp}', replaced by the case's own temporary folder (also its cwd).
test_hostile.py runs them; expectations encode the contract, not today's behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Union

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "specs" / "examples"
TINY = str(EXAMPLES / "tiny_mbconv.toml")

HUGE = str(10 ** 30)

# how a limit may be spelled in a message (one of the alternatives must appear)
L_CHANNELS = ("1,000,000", "1000000", "10^6", "1e6", "1e+06")
L_SIZE = ("65,536", "65536")
L_KERNEL = ("1,024", "1024")
L_REPEATS = ("1,000", "1000")
L_MULT = ("64",)


# --- files a case creates before it runs --------------------------------------------------------------------------

@dataclass(frozen=True)
class Symlink:
    """A symbolic link to target (relative to the link's folder, as written)."""
    target: str


@dataclass(frozen=True)
class Fifo:
    """A named pipe (os.mkfifo)."""


@dataclass(frozen=True)
class Dir:
    """An empty directory."""


@dataclass(frozen=True)
class ReadOnlyDir:
    """A directory made read-only (chmod 0o555) after every file is created; root can still write there, so the
    test skips such cases when a real write probe succeeds."""


FileSpec = Union[str, bytes, Symlink, Fifo, Dir, ReadOnlyDir]
Fragment = Union[str, tuple]  # a str must appear; a tuple: one of its strings must appear


@dataclass
class Case:
    id: str
    argv: list
    exit: Union[int, frozenset]
    fragments: tuple = ()           # on exit 2: each must appear in the error line (a tuple: any one of them)
    absent: tuple = ()              # on exit 2: none may appear in the error line
    files: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    fsize: Optional[int] = None     # RLIMIT_FSIZE in bytes (subprocess only)
    mode: str = "inproc"            # inproc (CliRunner) or subprocess
    timeout: Optional[float] = None
    allow: tuple = ()               # globs (relative to tmp) of files that may appear or change on exit 0/1
    stdout_has: tuple = ()          # on exit 0/1
    stderr_has: tuple = ()          # on exit 0/1
    stderr_empty: bool = False      # on exit 0
    check: Optional[Callable] = None  # check(tmp: Path, outcome) -> None, extra assertions after the run
    torch: bool = False             # imports torch: longer time limit
    needs_nonroot: bool = False     # relies on a read-only folder refusing writes
    stdout_closed: bool = False     # subprocess: stdout is a pipe whose reader is gone

    @property
    def exits(self) -> frozenset:
        return self.exit if isinstance(self.exit, frozenset) else frozenset({self.exit})

    @property
    def limit(self) -> float:
        if self.timeout:
            return self.timeout
        return 60.0 if self.torch else 20.0


OK_OR_2 = frozenset({0, 2})
ANY_CHECK = frozenset({0, 1, 2})

CASES: list[Case] = []


def add(case: Case) -> Case:
    CASES.append(case)
    return case


def bad(id: str, argv: list, *fragments, **kw) -> Case:
    return add(Case(id, argv, 2, fragments, **kw))


def ok(id: str, argv: list, **kw) -> Case:
    return add(Case(id, argv, 0, **kw))


def either(id: str, argv: list, *fragments, **kw) -> Case:
    """Exit 0 or a clean exit 2 are both acceptable (no decision made); on 2 the fragments must appear."""
    return add(Case(id, argv, OK_OR_2, fragments, **kw))


# --- extra checks -------------------------------------------------------------------------------------------------

PNG = b"\x89PNG"


def link_kept(link: str, target: str, magic: Optional[bytes] = None, may_be_missing: bool = False):
    """After the run, link is still a symlink to target, and target (if it must exist) starts with magic."""
    def _check(tmp: Path, outcome) -> None:
        p = tmp / link
        assert p.is_symlink(), f"{link} was a symlink and is not any more"
        t = tmp / target
        if may_be_missing and not t.exists():
            return
        if magic is not None and outcome.exit_code in (0, 1):
            assert t.read_bytes().startswith(magic), f"{target} (the symlink's target) does not hold the output"
    return _check


def exists_with(rel: str, magic: bytes):
    def _check(tmp: Path, outcome) -> None:
        if outcome.exit_code == 0:
            p = tmp / rel
            assert p.is_file() and p.read_bytes().startswith(magic), f"{rel} was not written whole on exit 0"
    return _check


def fifo_kept(rel: str):
    def _check(tmp: Path, outcome) -> None:
        import stat
        assert stat.S_ISFIFO((tmp / rel).lstat().st_mode), f"{rel} was a FIFO and is not any more"
    return _check


# ======================================================================================================================
# compare
# ======================================================================================================================

CMP = ["compare", "conv", "--cin", "3", "--cout", "8", "--size", "8"]
CMP_INT_BASE = {
    "--cin": ["compare", "conv", "--cout", "8", "--size", "8"],
    "--cout": ["compare", "conv", "--cin", "3", "--size", "8"],
    "--kernel": ["compare", "conv", "--cin", "3", "--cout", "8", "--size", "8"],
    "--size": ["compare", "conv", "--cin", "3", "--cout", "8"],
    "--height": ["compare", "conv", "--cin", "3", "--cout", "8", "--width", "8"],
    "--width": ["compare", "conv", "--cin", "3", "--cout", "8", "--height", "8"],
    "--stride": ["compare", "conv", "--cin", "3", "--cout", "8", "--size", "8"],
    "--groups": ["compare", "conv", "--cin", "4", "--cout", "8", "--size", "8"],
    "--expand": ["compare", "mbconv", "--cin", "4", "--cout", "8", "--size", "8"],
}
BAD_INTS = {"zero": "0", "neg": "-1", "abc": "abc", "empty": "", "float": "1.5", "inf": "inf", "nan": "nan",
            "sci": "1e3", "huge": HUGE}
for opt, base in CMP_INT_BASE.items():
    for label, value in BAD_INTS.items():
        cid = f"compare-{opt.lstrip('-')}-{label}"
        if opt == "--stride" and label == "huge":
            either(cid, base + [opt, value], opt)  # no limit decided for stride: output 1x1 or refused
        else:
            bad(cid, base + [opt, value], opt)

# limits: just past them -> exit 2 naming the option and the limit; at them -> fine
bad("compare-cin-over-limit", CMP_INT_BASE["--cin"] + ["--cin", "1000001"], "--cin", L_CHANNELS)
bad("compare-cout-over-limit", CMP_INT_BASE["--cout"] + ["--cout", "1000001"], "--cout", L_CHANNELS)
bad("compare-kernel-over-limit", CMP_INT_BASE["--kernel"] + ["--kernel", "1025"], "--kernel", L_KERNEL)
bad("compare-size-over-limit", CMP_INT_BASE["--size"] + ["--size", "65537"], "--size", L_SIZE)
bad("compare-height-over-limit", CMP_INT_BASE["--height"] + ["--height", "65537"], "--height", L_SIZE)
bad("compare-width-over-limit", CMP_INT_BASE["--width"] + ["--width", "65537"], "--width", L_SIZE)
bad("compare-expand-over-limit", CMP_INT_BASE["--expand"] + ["--expand", "65"], "--expand", L_MULT)
ok("compare-kernel-at-limit", CMP_INT_BASE["--kernel"] + ["--kernel", "1024"])
ok("compare-expand-at-limit", CMP_INT_BASE["--expand"] + ["--expand", "64"])
ok("compare-at-all-limits", ["compare", "conv", "dwsep", "--cin", "1000000", "--cout", "1000000", "--size", "65536"],
   stdout_has=("1000000x65536x65536",), timeout=20)
ok("compare-size-zero-check-absent-height", CMP + ["--format", "json"])  # sanity: the base line works
bad("compare-size-zero-named-size", CMP_INT_BASE["--size"] + ["--size", "0"], "--size", absent=("--height",))
either("compare-cin-fullwidth-digit", CMP_INT_BASE["--cin"] + ["--cin", "\uff13"], "--cin")
either("compare-cin-arabic-digit", CMP_INT_BASE["--cin"] + ["--cin", "\u0663"], "--cin")
bad("compare-cin-emoji", CMP_INT_BASE["--cin"] + ["--cin", "\U0001F600"], "--cin")

# float options
CMP_FLOAT_BASE = {
    "--alpha": CMP,
    "--rho": CMP,
    "--se": ["compare", "mbconv", "--cin", "8", "--cout", "8", "--size", "8"],
}
BAD_FLOATS = {"zero": "0", "neg": "-1", "nan": "nan", "inf": "inf", "neginf": "-inf", "1e308": "1e308",
              "1e400": "1e400", "abc": "abc", "empty": "", "huge": HUGE}
for opt, base in CMP_FLOAT_BASE.items():
    for label, value in BAD_FLOATS.items():
        bad(f"compare-{opt.lstrip('-')}-{label}", base + [opt, value], opt.lstrip("-"))
bad("compare-alpha-over-limit", CMP + ["--alpha", "65"], "alpha", L_MULT)
bad("compare-rho-over-limit", CMP + ["--rho", "65"], "rho", L_MULT)
ok("compare-alpha-at-limit", CMP + ["--alpha", "64"])
ok("compare-rho-at-limit", CMP + ["--rho", "64"])
bad("compare-alpha-tiny", CMP + ["--alpha", "1e-300"], "alpha")
bad("compare-rho-tiny", CMP + ["--rho", "1e-300"], "rho")
bad("compare-rho-makes-size-too-big", ["compare", "conv", "--cin", "3", "--cout", "8", "--size", "2000",
                                        "--rho", "64"], ("--rho", "--size", "size"), L_SIZE)
bad("compare-alpha-makes-channels-too-many", ["compare", "conv", "--cin", "100000", "--cout", "8", "--size", "8",
                                              "--alpha", "64"], ("--alpha", "--cin", "channels"), L_CHANNELS)
bad("compare-se-over-one", CMP_FLOAT_BASE["--se"] + ["--se", "1.5"], "--se")
ok("compare-se-quarter", CMP_FLOAT_BASE["--se"] + ["--se", "0.25"])

# --padding
PAD = ["compare", "conv", "--cin", "4", "--cout", "8", "--size", "9"]
for label, value in {"neg": "-1", "abc": "abc", "empty": "", "float": "1.5", "inf": "inf", "nan": "nan",
                     "unicode": "s\u00e4me"}.items():
    bad(f"compare-padding-{label}", PAD + ["--padding", value], "--padding")
either("compare-padding-huge", PAD + ["--padding", HUGE], "--padding")
either("compare-padding-upper-same", PAD + ["--padding", "SAME"], "--padding")
ok("compare-padding-same-even-kernel", PAD + ["--kernel", "4", "--padding", "same"], stdout_has=("8x9x9",))
ok("compare-padding-same-even-kernel-json", PAD + ["--kernel", "4", "--padding", "same", "--format", "json"],
   stdout_has=('9', '8'))
ok("compare-padding-same-even-kind-variant", PAD[:1] + ["conv:4"] + PAD[2:] + ["--padding", "same"],
   stdout_has=("8x9x9",))
ok("compare-padding-same-even-dwsep", ["compare", "dwsep:2", "--cin", "4", "--cout", "8", "--size", "9"],
   stdout_has=("8x9x9",))
ok("compare-padding-same-even-stacked", ["compare", "conv:4x2", "--cin", "4", "--cout", "8", "--size", "9"],
   stdout_has=("8x9x9",))
bad("compare-padding-same-even-kernel-stride-2", PAD + ["--kernel", "4", "--padding", "same", "--stride", "2"],
    ("--padding", "same"))
bad("compare-padding-same-even-default-stride-2", ["compare", "conv:4", "--cin", "4", "--cout", "8", "--size", "9",
                                                   "--stride", "2"], ("--padding", "same"))
ok("compare-padding-same-odd-stride-2", PAD + ["--kernel", "3", "--padding", "same", "--stride", "2"],
   stdout_has=("8x5x5",))
bad("compare-kernel-larger-than-input", ["compare", "conv", "--cin", "3", "--cout", "8", "--size", "8", "--kernel",
                                         "9", "--padding", "0"], ("--kernel", "--size", "--padding", "kernel"))
bad("compare-padding-for-mbconv", ["compare", "mbconv", "--cin", "8", "--cout", "8", "--size", "8", "--padding", "1"],
    "--padding")

# KINDs
for label, kind in {"unknown": "nope", "empty": "", "kernel-zero": "conv:0", "repeat-zero": "conv:3x0",
                    "colon-only": "conv:", "trailing-x": "conv:3x", "double-colon": "conv:3x2:1",
                    "pointwise-kernel": "pointwise:3", "mbconv-stacked": "mbconv:3x2", "upper": "CONV",
                    "unicode": "c\u00f6nv", "emoji": "\U0001F600", "space": "conv dwsep", "negative": "conv:-3"}.items():
    bad(f"compare-kind-{label}", ["compare", kind, "--cin", "3", "--cout", "8", "--size", "8"], ("kind", "KIND"))
bad("compare-kind-newline-one-line", ["compare", "conv\nevil", "--cin", "3", "--cout", "8", "--size", "8"],
    ("kind", "KIND"))
bad("compare-kind-very-long", ["compare", "a" * 100_000, "--cin", "3", "--cout", "8", "--size", "8"],
    ("kind", "KIND"))
bad("compare-kind-repeats-huge", ["compare", "conv:3x10000000", "--cin", "3", "--cout", "8", "--size", "8"],
    ("conv:3x10000000", "repeat", "stack"), L_REPEATS)
bad("compare-kind-repeats-1001", ["compare", "conv:3x1001", "--cin", "3", "--cout", "8", "--size", "8"],
    ("conv:3x1001", "repeat", "stack"), L_REPEATS)
ok("compare-kind-repeats-1000", ["compare", "conv:3x1000", "--cin", "3", "--cout", "8", "--size", "8",
                                 "--format", "csv"])
bad("compare-dwsep-repeats-huge", ["compare", "dwsep:3x10000000", "--cin", "3", "--cout", "8", "--size", "8"],
    ("dwsep:3x10000000", "repeat", "stack"), L_REPEATS)
bad("compare-depthwise-repeats-huge", ["compare", "depthwise:3x99999999999999999999", "--cin", "3", "--cout", "3",
                                       "--size", "8"], ("depthwise:3x", "repeat", "stack"), L_REPEATS)
bad("compare-kind-kernel-huge", ["compare", "conv:99999999999999999999", "--cin", "3", "--cout", "8", "--size", "8"],
    ("conv:99999999999999999999", "kernel"), L_KERNEL)
bad("compare-kind-kernel-1025", ["compare", "conv:1025", "--cin", "3", "--cout", "8", "--size", "8"],
    ("conv:1025", "kernel"), L_KERNEL)
ok("compare-fused-mbconv-dash", ["compare", "fused-mbconv", "--cin", "8", "--cout", "16", "--size", "8"])
ok("compare-fused-mbconv-underscore", ["compare", "fused_mbconv", "--cin", "8", "--cout", "16", "--size", "8"],
   stdout_has=("16x8x8",))
ok("compare-fused-both-spellings", ["compare", "fused-mbconv", "fused_mbconv", "--cin", "8", "--cout", "16",
                                    "--size", "8", "--expand", "4"])
ok("compare-depthwise-multiplier", ["compare", "depthwise", "--cin", "16", "--cout", "32", "--size", "8"],
   stdout_has=("32x8x8",))
ok("compare-depthwise-same-channels", ["compare", "depthwise", "--cin", "16", "--cout", "16", "--size", "8"],
   stdout_has=("16x8x8",))
bad("compare-depthwise-not-multiple", ["compare", "depthwise", "--cin", "16", "--cout", "24", "--size", "8"],
    "--cout")
bad("compare-depthwise-fewer-out", ["compare", "depthwise", "--cin", "16", "--cout", "8", "--size", "8"], "--cout")

# option combinations
bad("compare-size-and-height", CMP + ["--height", "8"], "--size")
bad("compare-missing-cin", ["compare", "conv", "--cout", "8"], "--cin")
bad("compare-no-kind", ["compare", "--cin", "3", "--cout", "8"], ("KIND", "kind"))
bad("compare-format-bogus", CMP + ["--format", "yaml"], "--format")
bad("compare-unknown-option", CMP + ["--nope", "1"], "--nope")
bad("compare-groups-not-dividing", ["compare", "conv", "--cin", "6", "--cout", "4", "--groups", "4", "--size", "8"],
    "--groups")
bad("compare-groups-for-dwsep", ["compare", "dwsep", "--cin", "4", "--cout", "8", "--groups", "2", "--size", "8"],
    "--groups")
bad("compare-se-for-conv", CMP + ["--se", "0.25"], "--se")
bad("compare-expand-for-conv", CMP + ["--expand", "4"], "--expand")
bad("compare-kernel-for-pointwise", ["compare", "pointwise", "--cin", "3", "--cout", "8", "--kernel", "5",
                                     "--size", "8"], "--kernel")
bad("compare-bottleneck-cout-not-4", ["compare", "bottleneck", "--cin", "8", "--cout", "6", "--size", "8"], "--cout")
bad("compare-bottleneck-groups", ["compare", "bottleneck", "--cin", "8", "--cout", "64", "--groups", "3",
                                  "--size", "8"], "--groups")
either("compare-stride-larger-than-size", CMP + ["--stride", "1000"], "--stride")
ok("compare-every-kind", ["compare", "conv", "depthwise", "pointwise", "dwsep", "mbconv", "fused-mbconv",
                          "bottleneck", "--cin", "8", "--cout", "16", "--size", "8", "--format", "markdown"])

# ======================================================================================================================
# breakeven
# ======================================================================================================================

for label, value in {"zero-start": "0..5", "reversed": "5..1", "abc": "abc", "empty": "", "too-long": "1..10000000",
                     "sci": "1..1e3", "negative": "-5..5", "three-dots": "1...5", "inf": "1..inf",
                     "huge": "1.." + HUGE, "nan": "nan", "comma": "1,5", "only-dots": ".."}.items():
    bad(f"breakeven-n-{label}", ["breakeven", "--n", value], "--n")
bad("breakeven-n-over-channel-limit", ["breakeven", "--n", "1000001"], "--n", L_CHANNELS)
ok("breakeven-n-single", ["breakeven", "--n", "7"])
either("breakeven-n-fullwidth", ["breakeven", "--n", "\uff11..\uff15"], "--n")
for label, value in {"zero": "0", "neg": "-1", "abc": "abc", "huge": HUGE, "over": "1000001"}.items():
    bad(f"breakeven-cin-{label}", ["breakeven", "--n", "1..8", "--cin", value], "--cin")
for label, value in {"zero": "0", "neg": "-1", "huge": HUGE, "over": "65537", "float": "2.5"}.items():
    bad(f"breakeven-size-{label}", ["breakeven", "--n", "1..8", "--size", value], "--size")
bad("breakeven-kind-bogus", ["breakeven", "--kind", "mbconv"], "--kind")
ok("breakeven-conv-csv", ["breakeven", "--kind", "conv", "--n", "1..16", "--format", "csv"])

# ======================================================================================================================
# arch
# ======================================================================================================================

bad("arch-unknown-name", ["arch", "nope"], "nope")
bad("arch-empty-name", ["arch", ""], ("arch", "name", "''"))
bad("arch-path-traversal", ["arch", "../../etc/passwd"], "passwd")
bad("arch-missing-toml", ["arch", "{tmp}/missing.toml"], "missing.toml")
bad("arch-dir-as-name", ["arch", "{tmp}"], ("directory", "not found", "unknown"))
bad("arch-dir-toml", ["arch", "{tmp}/d.toml"], "d.toml", files={"d.toml": Dir()})
bad("arch-dangling-symlink", ["arch", "{tmp}/l.toml"], "l.toml", files={"l.toml": Symlink("gone.toml")})
either("arch-name-upper", ["arch", "MobileNet_V2"], "MobileNet_V2")
either("arch-name-trailing-space", ["arch", "mobilenet_v2 "], "mobilenet_v2")
bad("arch-name-newline", ["arch", "mobilenet\nv2"], "mobilenet")
bad("arch-extra-argument", ["arch", "mobilenet_v2", "extra"], "extra")

ARCH = ["arch", "mobilenet_v2", "--resolution", "32", "--by", "type"]
for opt in ("--alpha", "--rho", "--depth"):
    for label, value in BAD_FLOATS.items():
        bad(f"arch-{opt.lstrip('-')}-{label}", ARCH + [opt, value], opt.lstrip("-"))
    bad(f"arch-{opt.lstrip('-')}-over-limit", ["arch", "mobilenet_v2", "--by", "type", opt, "65"],
        opt.lstrip("-"), L_MULT)
ARCH_NORES = ["arch", "mobilenet_v2", "--by", "type"]
for label, value in {"zero": "0", "neg": "-1", "abc": "abc", "empty": "", "float": "1.5", "inf": "inf",
                     "over": "65537", "huge": HUGE}.items():
    bad(f"arch-resolution-{label}", ARCH_NORES + ["--resolution", value], "resolution")
# PyTorch runs MobileNetV2 on a 1x1 input (every stride-2 conv pads it back to one pixel), Inception-v3 from 75 up
ok("arch-resolution-one-as-pytorch", ARCH_NORES + ["--resolution", "1"])
bad("arch-resolution-below-smallest", ["arch", "inception_v3", "--resolution", "1"], "the smallest it takes is 75")
for label, value in {"zero": "0", "neg": "-1", "abc": "abc", "over": "1000001", "huge": HUGE}.items():
    bad(f"arch-batch-{label}", ARCH + ["--batch", value], "batch")
ok("arch-batch-at-limit", ARCH + ["--batch", "1000000"])
bad("arch-efficientnet-depth-1e6", ["arch", "efficientnet_b0", "--depth", "1e6"], "depth")
ok("arch-efficientnet-depth-64", ["arch", "efficientnet_b0", "--depth", "64", "--resolution", "32", "--by", "type"])
either("arch-efficientnet-b7-depth-64", ["arch", "efficientnet_b7", "--depth", "64", "--resolution", "32",
                                         "--by", "type"], "depth")
ok("arch-alpha-at-limit", ["arch", "mobilenet_v1", "--alpha", "64", "--resolution", "32", "--by", "type"])
bad("arch-mobilenet-v1-alpha-tiny", ["arch", "mobilenet_v1", "--alpha", "1e-300", "--by", "type"], "alpha")
either("arch-efficientnet-alpha-tiny", ["arch", "efficientnet_b0", "--alpha", "1e-300", "--by", "type"], "alpha")
# rho 1e-9 rounds 224 to 0, kept at 1 pixel: PyTorch runs MobileNetV2 on 1x1 (see arch-resolution-one-as-pytorch)
bad("arch-rho-tiny", ["arch", "inception_v3", "--rho", "1e-9"], "rho 1e-09 x 299", "the smallest it takes is 75")
ok("arch-rho-at-limit", ["arch", "mobilenet_v2", "--rho", "64", "--by", "type"])
ok("arch-rho-at-limit-largest-native", ["arch", "efficientnet_b7", "--rho", "64", "--by", "type"])
either("arch-rho-and-resolution", ARCH + ["--rho", "0.5"], ("rho", "resolution"))
bad("arch-convention-bogus", ARCH + ["--convention", "flops"], "--convention")
bad("arch-by-bogus", ARCH + ["--by", "row"], "--by")
bad("arch-format-bogus", ARCH + ["--format", "xml"], "--format")
for conv in ("fvcore", "ptflops", "thop"):
    ok(f"arch-convention-{conv}", ARCH + ["--convention", conv])
ok("arch-resnext-json", ["arch", "resnext50_32x4d", "--resolution", "64", "--format", "json"])

# ======================================================================================================================
# sweep
# ======================================================================================================================

SWEEP = ["sweep", "mobilenet_v2"]
for label, value in {"empty": "", "comma": ",", "double-comma": "0.5,,1", "nan": "nan", "inf": "inf",
                     "1e400": "1e400", "1e308": "1e308", "neg": "-1", "zero": "0", "over": "65", "abc": "abc",
                     "semicolon": "0.5;1.0", "huge": HUGE, "tiny-v1": "1e-300"}.items():
    base = ["sweep", "mobilenet_v1"] if label == "tiny-v1" else SWEEP
    bad(f"sweep-alpha-{label}", base + ["--alpha", value, "--resolution", "32"], "alpha")
for label, value in {"empty": "", "zero": "0", "neg": "-32", "float": "32.5", "sci": "1e3", "over": "65537",
                     "huge": HUGE, "abc": "32,abc", "inf": "inf"}.items():
    bad(f"sweep-resolution-{label}", SWEEP + ["--alpha", "1.0", "--resolution", value], "resolution")
bad("sweep-resolution-below-smallest", ["sweep", "squeezenet1_1", "--alpha", "1.0", "--resolution", "224,16"],
    "the smallest it takes is 17")
either("sweep-alpha-underscore", SWEEP + ["--alpha", "1_0", "--resolution", "32"], "--alpha")
either("sweep-alpha-arabic", SWEEP + ["--alpha", "\u0660.\u0665", "--resolution", "32"], "--alpha")
ok("sweep-alpha-spaces", SWEEP + ["--alpha", " 0.5, 1.0 ", "--resolution", "32, 64"])
bad("sweep-unknown-name", ["sweep", "nope", "--alpha", "1.0", "--resolution", "32"], "nope")
bad("sweep-missing-toml", ["sweep", "{tmp}/missing.toml"], "missing.toml")
ok("sweep-grid-json", SWEEP + ["--alpha", "0.35,0.5,0.75,1.0,1.4", "--resolution", "32,64,96", "--format", "json"])

# ======================================================================================================================
# list and the group itself
# ======================================================================================================================

ok("list-plain", ["list"])
ok("list-json", ["list", "--format", "json"])
bad("list-format-bogus", ["list", "--format", "yaml"], "--format")
bad("list-extra-argument", ["list", "extra"], "extra")
either("group-no-arguments", [])
ok("group-version", ["--version"])
ok("group-help", ["--help"])
ok("compare-help", ["compare", "--help"])
bad("group-unknown-command", ["nope"], "nope")
bad("group-unknown-option", ["--nope"], "--nope")
bad("group-unicode-command", ["\u00e4rch"], "\u00e4rch")

# ======================================================================================================================
# architecture TOML (arch FILE)
# ======================================================================================================================

MARK = "  # <-"

BASE_ARCH = {
    "top": {"name": '"t"', "resolution": "32", "rules": '"efficientnet"'},
    "stem": {"channels": "8"},
    "stages": [
        {"block": '"mbconv"', "channels": "16", "expand": "4", "se": "true", "kernel": "3"},
        {"block": '"dwsep"', "channels": "24", "stride": "2", "kernel": "3"},
        {"block": '"conv"', "channels": "32", "stride": "2", "kernel": "3"},
    ],
    "head": {"channels": "64"},
    "classifier": {"classes": "10"},
}


def arch_text(top=None, stem=None, stages=None, head=None, classifier=None, drop=(), extra="") -> str:
    """A small valid architecture TOML with overrides. Each override dict maps key -> TOML literal (None deletes);
    the override's line is marked so its number can be found. stages: {index: {key: literal}}."""
    import copy

    spec = copy.deepcopy(BASE_ARCH)
    for part, over in (("top", top), ("stem", stem), ("head", head), ("classifier", classifier)):
        for key, value in (over or {}).items():
            if value is None:
                spec[part].pop(key, None)
            else:
                spec[part][key] = value + MARK
    for index, over in (stages or {}).items():
        for key, value in over.items():
            if value is None:
                spec["stages"][index].pop(key, None)
            else:
                spec["stages"][index][key] = value + MARK
    lines = [f"{k} = {v}" for k, v in spec["top"].items()]
    lines.append(extra) if extra else None
    for part in ("stem",):
        if part not in drop:
            lines += ["", f"[{part}]"] + [f"{k} = {v}" for k, v in spec[part].items()]
    if "stages" not in drop:
        for stage in spec["stages"]:
            lines += ["", "[[stages]]"] + [f"{k} = {v}" for k, v in stage.items()]
    for part in ("head", "classifier"):
        if part not in drop:
            lines += ["", f"[{part}]"] + [f"{k} = {v}" for k, v in spec[part].items()]
    return "\n".join(lines) + "\n"


def marked_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if line.endswith(MARK):
            return number
    raise AssertionError("no marked line")


def toml_bad(id: str, text: str, *fragments, argv_extra=(), line: bool = True, **kw) -> Case:
    """arch FILE on text; exit 2 naming the fragments and (line=True) ':LINE' of the marked line."""
    frags = list(fragments) + ([f"net.toml:{marked_line(text)}:"] if line else ["net.toml"])
    return bad(id, ["arch", "{tmp}/net.toml", *argv_extra], *frags, files={"net.toml": text, **kw.pop("files", {})},
               **kw)


def toml_ok(id: str, text, **kw) -> Case:
    return ok(id, ["arch", "{tmp}/net.toml", "--by", "stage"], files={"net.toml": text, **kw.pop("files", {})}, **kw)


toml_ok("toml-valid-base", arch_text())
# keys that do not apply to the stage's block
toml_bad("toml-groups-on-conv", arch_text(stages={2: {"groups": "3"}}), "stages[2].groups")
toml_bad("toml-se-on-conv", arch_text(stages={2: {"se": "true"}}), "stages[2].se")
toml_bad("toml-expand-on-conv", arch_text(stages={2: {"expand": "6"}}), "stages[2].expand")
toml_bad("toml-expanded-on-conv", arch_text(stages={2: {"expanded": "64"}}), "stages[2].expanded")
toml_bad("toml-expand-on-dwsep", arch_text(stages={1: {"expand": "6"}}), "stages[1].expand")
toml_bad("toml-se-on-dwsep", arch_text(stages={1: {"se": "true"}}), "stages[1].se")
toml_bad("toml-groups-on-dwsep", arch_text(stages={1: {"groups": "2"}}), "stages[1].groups")
toml_bad("toml-groups-on-mbconv", arch_text(stages={0: {"groups": "2"}}), "stages[0].groups")
toml_bad("toml-groups-default-value-on-conv", arch_text(stages={2: {"groups": "1"}}), "stages[2].groups")
toml_bad("toml-quoted-groups-on-conv", arch_text(stages={2: {'"groups"': "3"}}), "groups")
# value errors point at the key's line
for label, key, value in [
    ("kernel-zero", "kernel", "0"), ("kernel-neg", "kernel", "-3"), ("kernel-over", "kernel", "1025"),
    ("kernel-float", "kernel", "3.5"), ("kernel-string", "kernel", '"3"'), ("kernel-1e400", "kernel", "1e400"),
    ("block-nope", "block", '"nope"'), ("block-empty", "block", '""'), ("block-int", "block", "3"),
    ("channels-neg", "channels", "-1"), ("channels-zero", "channels", "0"), ("channels-over", "channels", "1000001"),
    ("channels-huge", "channels", HUGE), ("channels-bool", "channels", "true"), ("channels-inf", "channels", "inf"),
    ("repeats-zero", "repeats", "0"), ("repeats-huge", "repeats", "100000000"), ("repeats-1001", "repeats", "1001"),
    ("stride-zero", "stride", "0"), ("stride-huge", "stride", HUGE),
    ("expand-zero", "expand", "0"), ("expand-neg", "expand", "-1"), ("expand-inf", "expand", "inf"),
    ("expand-nan", "expand", "nan"), ("expand-neginf", "expand", "-inf"), ("expand-1e308", "expand", "1e308"),
    ("expand-1e400", "expand", "1e400"), ("expand-over", "expand", "65"), ("expand-string", "expand", '"6"'),
    ("se-over-1", "se", "2"), ("se-zero", "se", "0"), ("se-string", "se", '"yes"'), ("act-nope", "act", '"nope"'), ("expanded-zero", "expanded", "0"),
    ("expanded-over", "expanded", "1000001"), ("unknown-key", "kernal", "3"),
]:
    frags = [f"stages[0].{key}"]
    if label.endswith("-over") or label in ("repeats-huge", "repeats-1001"):
        frags.append({"kernel": L_KERNEL, "channels": L_CHANNELS, "expanded": L_CHANNELS, "repeats": L_REPEATS,
                      "expand": L_MULT}[key])
    toml_bad(f"toml-stage-{label}", arch_text(stages={0: {key: value}}), *frags)
toml_bad("toml-third-stage-kernel-line", arch_text(stages={2: {"kernel": "0"}}), "stages[2].kernel")
toml_bad("toml-repeats-huge-dwsep", arch_text(stages={1: {"repeats": "100000000"}}), "stages[1].repeats", L_REPEATS)
ok("toml-fused-mbconv-underscore", ["arch", "{tmp}/net.toml"],
   files={"net.toml": arch_text(stages={0: {"block": '"fused_mbconv"'}})})
ok("toml-fused-mbconv-dash", ["arch", "{tmp}/net.toml"],
   files={"net.toml": arch_text(stages={0: {"block": '"fused-mbconv"'}})})
either("toml-block-upper", ["arch", "{tmp}/net.toml"], "block",
       files={"net.toml": arch_text(stages={0: {"block": '"MBCONV"'}})})
# top level
for label, key, value, limit in [
    ("resolution-zero", "resolution", "0", None), ("resolution-neg", "resolution", "-1", None),
    ("resolution-over", "resolution", "65537", L_SIZE), ("resolution-huge", "resolution", HUGE, L_SIZE),
    ("resolution-float", "resolution", "32.0", None), ("resolution-string", "resolution", '"32"', None),
    ("width-mult-zero", "width_mult", "0", None), ("width-mult-neg", "width_mult", "-1", None),
    ("width-mult-inf", "width_mult", "inf", None), ("width-mult-nan", "width_mult", "nan", None),
    ("width-mult-1e308", "width_mult", "1e308", None), ("width-mult-1e400", "width_mult", "1e400", None),
    ("width-mult-over", "width_mult", "65", L_MULT), ("width-mult-string", "width_mult", '"1"', None),
    ("depth-mult-zero", "depth_mult", "0", None), ("depth-mult-inf", "depth_mult", "inf", None),
    ("depth-mult-nan", "depth_mult", "nan", None), ("depth-mult-over", "depth_mult", "65", L_MULT),
    ("depth-mult-1e308", "depth_mult", "1e308", None),
    ("in-channels-zero", "in_channels", "0", None), ("in-channels-over", "in_channels", "1000001", L_CHANNELS),
    ("unknown-key", "colour", "1", None), ("name-int", "name", "3", None), ("rules-nope", "rules", '"nope"', None),
    ("rules-int", "rules", "3", None),
]:
    toml_bad(f"toml-top-{label}", arch_text(top={key: value}), key, *([limit] if limit else []))
for label, part, key, value in [
    ("stem-channels-zero", "stem", "channels", "0"), ("stem-kernel-zero", "stem", "kernel", "0"),
    ("stem-stride-zero", "stem", "stride", "0"), ("stem-act-nope", "stem", "act", '"nope"'),
    ("stem-unknown", "stem", "chanels", "8"), ("stem-channels-over", "stem", "channels", "1000001"),
    ("head-channels-zero", "head", "channels", "0"), ("head-scale-nope", "head", "scale", '"nope"'),
    ("head-per-input-zero", "head", "per_input", "0"),
    ("classifier-classes-zero", "classifier", "classes", "0"), ("classifier-hidden-zero", "classifier", "hidden", "[0]"),
    ("classifier-hidden-float", "classifier", "hidden", "[1.5]"), ("classifier-hidden-string", "classifier", "hidden", '"x"'),
    ("classifier-pool-nope", "classifier", "pool", '"nope"'),
]:
    toml_bad(f"toml-{label}", arch_text(**{part: {key: value}}), f"{part}.{key}")
either("toml-classifier-classes-huge", ["arch", "{tmp}/net.toml"], "classes",
       files={"net.toml": arch_text(classifier={"classes": HUGE})})
# structure and encoding
bad("toml-missing-name", ["arch", "{tmp}/net.toml"], "name", files={"net.toml": arch_text(top={"name": None})})
either("toml-missing-stem", ["arch", "{tmp}/net.toml"], "stem", files={"net.toml": arch_text(drop=("stem",))})
bad("toml-missing-stages", ["arch", "{tmp}/net.toml"], "stages", files={"net.toml": arch_text(drop=("stages",))})
bad("toml-stages-empty-list", ["arch", "{tmp}/net.toml"], "stages",
    files={"net.toml": arch_text(drop=("stages",), extra="stages = []")})
bad("toml-stages-as-table", ["arch", "{tmp}/net.toml"], "stages",
    files={"net.toml": arch_text(drop=("stages",)) + '\n[stages]\nblock = "conv"\nchannels = 8\n'})
bad("toml-stem-as-int", ["arch", "{tmp}/net.toml"], "stem",
    files={"net.toml": arch_text(drop=("stem",), extra="stem = 3")})
bad("toml-empty-file", ["arch", "{tmp}/net.toml"], "net.toml", files={"net.toml": ""})
bad("toml-syntax-error", ["arch", "{tmp}/net.toml"], "net.toml", "line", files={"net.toml": 'name = \n'})
bad("toml-duplicate-key", ["arch", "{tmp}/net.toml"], "net.toml",
    files={"net.toml": arch_text(extra='name = "again"')})
bad("toml-not-utf8", ["arch", "{tmp}/net.toml"], "net.toml", "UTF-8",
    files={"net.toml": arch_text(top={"name": '"caf\u00e9"'}).encode("latin-1")})
bad("toml-binary-garbage", ["arch", "{tmp}/net.toml"], "net.toml",
    files={"net.toml": bytes(range(256)) * 4})
bad("toml-nul-bytes", ["arch", "{tmp}/net.toml"], "net.toml", files={"net.toml": b'name = "t\x00"\n'})
bad("toml-deep-nesting", ["arch", "{tmp}/net.toml"], "net.toml",
    files={"net.toml": "x = " + "[" * 5000 + "]" * 5000 + "\n"})
bad("toml-deep-inline-tables", ["arch", "{tmp}/net.toml"], "net.toml",
    files={"net.toml": "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n"})
ok("toml-bom-valid", ["arch", "{tmp}/net.toml"], files={"net.toml": "\ufeff" + arch_text()})
bad("toml-bom-bad-key-line", ["arch", "{tmp}/net.toml"], "stages[2].groups",
    f"net.toml:{marked_line(arch_text(stages={2: {'groups': '3'}}))}:",
    files={"net.toml": "\ufeff" + arch_text(stages={2: {"groups": "3"}})})
ok("toml-crlf-valid", ["arch", "{tmp}/net.toml"], files={"net.toml": arch_text().replace("\n", "\r\n").encode()})
bad("toml-crlf-bad-key-line", ["arch", "{tmp}/net.toml"], "stages[0].kernel",
    f"net.toml:{marked_line(arch_text(stages={0: {'kernel': '0'}}))}:",
    files={"net.toml": arch_text(stages={0: {"kernel": "0"}}).replace("\n", "\r\n").encode()})
# an input smaller than the strides multiplied is fine wherever PyTorch runs it (padded convs keep one pixel) ...
ok("toml-strides-exceed-resolution-as-pytorch", ["arch", "{tmp}/net.toml"],
   files={"net.toml": arch_text(top={"resolution": "4"})})
# ... and refused, with the smallest input, where a layer has nothing left to take (a pool without padding)
toml_bad("toml-pool-exceeds-resolution", arch_text(top={"resolution": "2"}) + '\n[[stages]]\nblock = "maxpool"\n'
         'kernel = 5\n', "resolution 2 is too small, the smallest input it takes is", line=False)
ok("toml-inline-stages", ["arch", "{tmp}/net.toml"], files={"net.toml": (
    'name = "inline"\nresolution = 32\nstem = {channels = 8}\n'
    'stages = [{block = "conv", channels = 8}, {block = "dwsep", channels = 16, stride = 2}]\n')})
ok("toml-dotted-keys", ["arch", "{tmp}/net.toml"], files={"net.toml": (
    'name = "dotted"\nresolution = 32\nstem.channels = 8\n[[stages]]\nblock = "conv"\nchannels = 8\n')})
ok("toml-unicode-name", ["arch", "{tmp}/net.toml"], files={"net.toml": arch_text(top={"name": '"\u7f51\u7edc-\u00e4"'})})
ok("toml-symlink-to-valid", ["arch", "{tmp}/link.toml"], files={"net.toml": arch_text(), "link.toml": Symlink("net.toml")})
bad("toml-with-depth-option", ["arch", "{tmp}/net.toml", "--depth", "1e6"], "depth", files={"net.toml": arch_text()})
bad("toml-with-alpha-inf", ["arch", "{tmp}/net.toml", "--alpha", "inf"], "alpha", files={"net.toml": arch_text()})
bad("toml-depth-mult-times-depth", ["arch", "{tmp}/net.toml", "--depth", "64"], "depth",
    files={"net.toml": arch_text(top={"depth_mult": "64"})})
bad("toml-sweep-bad-file", ["sweep", "{tmp}/net.toml", "--alpha", "1.0", "--resolution", "32"], "stages[2].groups",
    files={"net.toml": arch_text(stages={2: {"groups": "3"}})})
ok("toml-example-tiny", ["arch", TINY, "--by", "type"])
ok("toml-example-k5", ["arch", str(EXAMPLES / "mobilenet_v2_k5.toml"), "--alpha", "0.6", "--by", "type"])

# ======================================================================================================================
# budget TOML (check FILE)
# ======================================================================================================================

def budget_text(**over) -> str:
    """One [[budget]] on mobilenet_v1 (568.7M MACs at 224) that holds; over: key -> TOML literal (None deletes)."""
    keys = {"name": '"b"', "model": '"mobilenet_v1"', "max_macs": '"570M"'}
    for key, value in over.items():
        if value is None:
            keys.pop(key, None)
        else:
            keys[key] = value
    return "[[budget]]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())


def check_bad(id: str, text: str, *fragments, **kw) -> Case:
    return bad(id, ["check", "{tmp}/b.toml"], *fragments, files={"b.toml": text, **kw.pop("files", {})}, **kw)


ok("check-valid", ["check", "{tmp}/b.toml"], files={"b.toml": budget_text()})
add(Case("check-exceeded", ["check", "{tmp}/b.toml"], 1, files={"b.toml": budget_text(max_macs='"500M"')},
         stderr_has=("budget exceeded",)))
add(Case("check-exceeded-github-actions", ["check", "{tmp}/b.toml"], 1, env={"GITHUB_ACTIONS": "true"},
         files={"b.toml": budget_text(max_macs='"500M"')}, stderr_has=("::error file=",)))
check_bad("check-max-macs-1e400", budget_text(max_macs="1e400"), "max_macs", "finite", absent=('"inf"', "e.g. \"inf"))
check_bad("check-max-macs-inf", budget_text(max_macs="inf"), "max_macs", absent=('"inf"',))
check_bad("check-max-macs-nan", budget_text(max_macs="nan"), "max_macs", absent=('"nan"',))
for label, value in {"neg": "-1", "abc": '"abc"', "fraction": '"1.5"', "suffix": '"10Q"', "empty": '""',
                     "sci-fraction-exponent": '"1e3.5"', "bool": "true", "list": "[1]", "arabic": '"\u0661\u0660M"',
                     "inf-string": '"inf"', "tiny-fraction": '"0.0000001M"', "float": "1.5e9",
                     "string-1e400": '"1e400"', "table": "{a = 1}"}.items():
    check_bad(f"check-max-macs-{label}", budget_text(max_macs=value), "max_macs")
ok("check-max-macs-huge-int", ["check", "{tmp}/b.toml"], files={"b.toml": budget_text(max_macs=HUGE)})
check_bad("check-max-macs-huge-suffix", budget_text(max_macs='"99999999999999999999999999999T"'), "max_macs",
          "at most 1e36")
check_bad("check-max-macs-exponent-digits", budget_text(max_macs='"3e9999"'), "max_macs", "at most 1e36")
ok("check-max-macs-underscore", ["check", "{tmp}/b.toml"], files={"b.toml": budget_text(max_macs='"570_000_000"')})
check_bad("check-unknown-key", budget_text(max_mac='"1M"'), "max_mac")
check_bad("check-unknown-top-level", "budgets = 1\n" + budget_text(), "budgets")
check_bad("check-no-budgets", "# nothing\n", "budget")
check_bad("check-budget-int", "budget = 3\n", "budget")
check_bad("check-model-missing", budget_text(model=None), "model")
check_bad("check-model-empty", budget_text(model='""'), "model")
check_bad("check-model-int", budget_text(model="3"), "model")
check_bad("check-model-unknown", budget_text(model='"nope"'), "nope")
check_bad("check-model-missing-toml", budget_text(model='"nope.toml"'), "nope.toml")
check_bad("check-model-toml-dir", budget_text(model='"d.toml"'), "d.toml", files={"d.toml": Dir()})
check_bad("check-model-bad-toml", budget_text(model='"net.toml"'), "stages[2].groups",
          files={"net.toml": arch_text(stages={2: {"groups": "3"}})})
ok("check-model-relative-toml", ["check", "{tmp}/sub/b.toml"],
   files={"sub": Dir(), "sub/b.toml": budget_text(model='"net.toml"', max_macs='"1G"'), "sub/net.toml": arch_text()})
for label, value in {"zero": "0", "neg": "-1", "over": "65537", "huge": HUGE, "float": "1.5", "string": '"224"',
                     "bool": "true", "inf": "inf"}.items():
    check_bad(f"check-resolution-{label}", budget_text(resolution=value), "resolution")
for label, value in {"zero": "0", "neg": "-1", "nan": "nan", "inf": "inf", "1e308": "1e308", "1e400": "1e400",
                     "over": "65", "string": '"1"', "bool": "true"}.items():
    check_bad(f"check-alpha-{label}", budget_text(alpha=value), "alpha")
for label, value in {"three-dims": "[1, 3, 224]", "zero-batch": "[0, 3, 224, 224]", "not-square": "[1, 3, 224, 225]",
                     "negative": "[1, 3, -1, -1]", "batch-over": "[1000001, 3, 224, 224]",
                     "huge": f"[1, 3, {HUGE}, {HUGE}]", "size-over": "[1, 3, 65537, 65537]",
                     "floats": "[1.0, 3.0, 224.0, 224.0]", "strings": '["1", "3", "224", "224"]', "empty": "[]",
                     "four-channels": "[1, 4, 224, 224]"}.items():
    check_bad(f"check-input-{label}", budget_text(input=value), "input" if label != "four-channels" else "4")
check_bad("check-convention-bogus", budget_text(convention='"flops"'), "convention")
check_bad("check-convention-list", budget_text(convention="[1]"), "convention")
check_bad("check-convention-table", budget_text(convention="{}"), "convention")
check_bad("check-name-list", budget_text(name="[1]"), "name")
check_bad("check-resolution-list", budget_text(resolution="[224]"), "resolution")
check_bad("check-alpha-table", budget_text(alpha="{a = 1}"), "alpha")
check_bad("check-duplicate-names", budget_text() + budget_text(), "b")
check_bad("check-alpha-for-module", budget_text(model='"torchvision.models:mobilenet_v2"', alpha="0.5",
                                                input="[1, 3, 32, 32]"), "alpha")
check_bad("check-module-without-input", budget_text(model='"torchvision.models:mobilenet_v2"'), "input")
bad("check-missing-file", ["check", "{tmp}/missing.toml"], "missing.toml")
bad("check-dir-file", ["check", "{tmp}"], "directory")
check_bad("check-not-utf8", ("# caf\u00e9\n" + budget_text()).encode("latin-1"), "UTF-8")
check_bad("check-syntax-error", "[[budget]\nmodel = 1\n", "line")
check_bad("check-deep-nesting", "x = " + "[" * 5000 + "]" * 5000 + "\n", "b.toml")
ok("check-bom-valid", ["check", "{tmp}/b.toml"], files={"b.toml": "\ufeff" + budget_text()})
ok("check-crlf-valid", ["check", "{tmp}/b.toml"], files={"b.toml": budget_text().replace("\n", "\r\n").encode()})
ok("check-example-file", ["check", str(EXAMPLES / "budgets_example.toml"), "--format", "json"])
ok("check-step-summary", ["check", "{tmp}/b.toml"], env={"GITHUB_STEP_SUMMARY": "{tmp}/summary.md"},
   files={"b.toml": budget_text()}, allow=("summary.md",))
bad("check-step-summary-dir", ["check", "{tmp}/b.toml"], "GITHUB_STEP_SUMMARY", env={"GITHUB_STEP_SUMMARY": "{tmp}"},
    files={"b.toml": budget_text()})
bad("check-step-summary-missing-parent", ["check", "{tmp}/b.toml"], "GITHUB_STEP_SUMMARY",
    env={"GITHUB_STEP_SUMMARY": "{tmp}/nope/summary.md"}, files={"b.toml": budget_text()})
bad("check-step-summary-fifo", ["check", "{tmp}/b.toml"], "GITHUB_STEP_SUMMARY",
    env={"GITHUB_STEP_SUMMARY": "{tmp}/summary.md"}, files={"b.toml": budget_text(), "summary.md": Fifo()},
    check=fifo_kept("summary.md"))
bad("check-bad-file-keeps-junit", ["check", "{tmp}/b.toml", "--junit", "{tmp}/out.xml"], "max_macs",
    files={"b.toml": budget_text(max_macs='"abc"'), "out.xml": "old"})

# ======================================================================================================================
# device profile TOML (latency --device FILE) and latency options
# ======================================================================================================================

def device_text(**over) -> str:
    keys = {"name": '"d"', "peak_flops": "1e11", "memory_bandwidth": "1e10", "overhead_s": "1e-6"}
    for key, value in over.items():
        if value is None:
            keys.pop(key, None)
        else:
            keys[key] = value
    return "".join(f"{k} = {v}\n" for k, v in keys.items())


LAT_FILE = ["latency", "mobilenet_v2", "--device", "{tmp}/dev.toml", "--resolution", "32"]

# latency budgets: max_latency_ms with its device (a spec-sheet profile or a device TOML; never host)
LAT_BUDGET = {"max_macs": None, "max_latency_ms": "100"}
ok("check-latency-valid", ["check", "{tmp}/b.toml"], files={"b.toml": budget_text(**LAT_BUDGET, device='"jetson-nano"')})
ok("check-latency-device-file", ["check", "{tmp}/b.toml"],
   files={"b.toml": budget_text(**LAT_BUDGET, device='"d.toml"'), "d.toml": device_text()})
check_bad("check-latency-without-device", budget_text(**LAT_BUDGET), "max_latency_ms", "line 4", "device")
check_bad("check-latency-device-host", budget_text(**LAT_BUDGET, device='"host"'), "device", "line 5", "'host'")
check_bad("check-latency-device-unknown", budget_text(**LAT_BUDGET, device='"tpu9"'), "device", "line 5", "tpu9")
check_bad("check-latency-device-not-text", budget_text(**LAT_BUDGET, device="3"), "device", "line 5")
check_bad("check-latency-device-missing-field", budget_text(**LAT_BUDGET, device='"d.toml"'), "d.toml",
          "memory_bandwidth", files={"d.toml": device_text(memory_bandwidth=None)})
check_bad("check-latency-device-without-limit", budget_text(device='"jetson-nano"'), "device", "max_latency_ms")
for label, value in {"zero": "0", "neg": "-2.5", "inf": "inf", "nan": "nan", "text": '"5ms"', "bool": "true"}.items():
    check_bad(f"check-latency-{label}", budget_text(max_macs=None, max_latency_ms=value, device='"jetson-nano"'),
              "max_latency_ms", "line 4")


def device_bad(id: str, text, *fragments, **kw) -> Case:
    return bad(id, LAT_FILE, *fragments, files={"dev.toml": text, **kw.pop("files", {})}, **kw)


ok("device-valid", LAT_FILE, files={"dev.toml": device_text()})
for key in ("peak_flops", "memory_bandwidth", "overhead_s"):
    for label, value in {"zero": "0", "neg": "-1", "inf": "inf", "nan": "nan", "neginf": "-inf", "1e400": "1e400",
                         "string": '"x"', "bool": "true"}.items():
        if key == "overhead_s" and label == "zero":
            either(f"device-{key}-{label}", LAT_FILE, key, files={"dev.toml": device_text(**{key: value})})
            continue
        device_bad(f"device-{key}-{label}", device_text(**{key: value}), key)
    either(f"device-{key}-denormal", LAT_FILE + ["--format", "json"], key,
           files={"dev.toml": device_text(**{key: "5e-324"})})
    either(f"device-{key}-1e308", LAT_FILE + ["--format", "json"], key,
           files={"dev.toml": device_text(**{key: "1e308"})})
    device_bad(f"device-{key}-missing", device_text(**{key: None}), key)
device_bad("device-threads-float", device_text(threads="1.5"), "threads")
device_bad("device-threads-zero", device_text(threads="0"), "threads")
either("device-threads-huge", LAT_FILE, "threads", files={"dev.toml": device_text(threads=HUGE)})
device_bad("device-cache-bytes-alone", device_text(cache_bytes="1e6"), "cache")
device_bad("device-unknown-field", device_text(peak_flop="1e11"), "peak_flop")
device_bad("device-name-int", device_text(name="3"), "name")
device_bad("device-overhead-table-unknown", device_text() + "[overhead_by_type]\nnope = 1e-6\n", "nope")
device_bad("device-overhead-table-int", device_text(overhead_by_type="3"), "overhead_by_type")
device_bad("device-overhead-table-nan", device_text() + "[overhead_by_type]\nconv = nan\n", ("conv", "overhead_by_type"))
device_bad("device-bandwidth-table-neg", device_text() + "[bandwidth_by_kernel]\nrelu = -1\n", ("relu", "bandwidth"))
device_bad("device-not-utf8", ("# caf\u00e9\n" + device_text()).encode("latin-1"), "UTF-8")
device_bad("device-syntax-error", "peak_flops = = 1\n", "dev.toml")
device_bad("device-empty", "", ("peak_flops", "memory_bandwidth", "overhead_s"))
device_bad("device-dir", Dir(), "dev.toml")
ok("device-bom-valid", LAT_FILE, files={"dev.toml": "\ufeff" + device_text()})
bad("device-missing-file", ["latency", "mobilenet_v2", "--device", "{tmp}/missing.toml", "--resolution", "32"],
    "missing.toml")
bad("latency-device-unknown", ["latency", "mobilenet_v2", "--device", "nope"], "nope")
bad("latency-device-empty", ["latency", "mobilenet_v2", "--device", ""], "device")
LAT = ["latency", "mobilenet_v2", "--device", "jetson-nano", "--resolution", "32"]
ok("latency-jetson", LAT)
ok("latency-jetson-json", LAT + ["--format", "json"])
for opt, values in {"--threads": {"zero": "0", "neg": "-1", "abc": "abc", "over": "1025"},
                    "--batch": {"zero": "0", "neg": "-1", "abc": "abc", "over": "1000001", "huge": HUGE},
                    "--dtype-bytes": {"zero": "0", "neg": "-1", "abc": "abc", "huge": HUGE},
                    "--repeats": {"zero": "0", "neg": "-1", "abc": "abc"}}.items():
    for label, value in values.items():
        bad(f"latency-{opt.lstrip('-')}-{label}", LAT + [opt, value], opt)
for label, value in {"zero": "0", "neg": "-1", "over": "65537", "huge": HUGE}.items():
    bad(f"latency-resolution-{label}", ["latency", "mobilenet_v2", "--device", "jetson-nano", "--resolution", value],
        "resolution")
bad("latency-resolution-below-smallest", ["latency", "googlenet", "--device", "jetson-nano", "--resolution", "14"],
    "the smallest it takes is 15")
bad("latency-unknown-model", ["latency", "nope", "--device", "jetson-nano"], "nope")
bad("latency-share-chart-without-measure", LAT + ["--share-chart", "{tmp}/s.png"], "--share-chart")
bad("latency-format-bogus", LAT + ["--format", "yaml"], "--format")
either("latency-threads-huge", LAT + ["--threads", HUGE], "--threads")
# a host cache another costlab version wrote, or a damaged one, is a cache: measured again, and said so on stderr
for label, text in {"corrupt": b"\x00\xffgarbage = = ]]\n", "invalid-values": device_text(peak_flops="-1"),
                    "truncated": device_text()[:25], "unknown-field": device_text() + "warp_bandwidth = 1e9\n"}.items():
    ok(f"latency-{label}-host-cache-recalibrates", ["latency", "mobilenet_v2", "--resolution", "32"],
       env={"COSTLAB_CACHE_DIR": "{tmp}"}, files={"host-1.toml": text}, torch=True, allow=("host-1.toml",),
       stderr_has=("is stale (unreadable:", "calibrating again"))
ok("latency-measure-small", LAT + ["--measure", "--repeats", "1"], torch=True)
bad("latency-measure-repeats-huge", LAT + ["--measure", "--repeats", HUGE], "--repeats", torch=True, timeout=30)
ok("latency-measure-share-chart", LAT + ["--measure", "--repeats", "1", "--share-chart", "{tmp}/s.png"], torch=True,
   allow=("s.png",), check=exists_with("s.png", PNG))

# ======================================================================================================================
# output targets: --chart, --junit, report --out
# ======================================================================================================================

CHART_COMMANDS = {
    "compare": (CMP + ["--chart"], "out.png", PNG),
    "breakeven": (["breakeven", "--n", "1..16", "--chart"], "out.png", PNG),
    "arch": (ARCH + ["--chart"], "out.png", PNG),
    "sweep": (SWEEP + ["--alpha", "0.5,1.0", "--resolution", "32,64", "--chart"], "out.svg", b"<?xml"),
    "latency": (LAT + ["--chart"], "out.png", PNG),
    "check": (["check", "{tmp}/b.toml", "--junit"], "out.xml", b"<?xml"),
}


def target_cases(cmd: str) -> None:
    argv, name, magic = CHART_COMMANDS[cmd]
    stem, suffix = name.rsplit(".", 1)
    files = {"b.toml": budget_text()} if cmd == "check" else {}
    opt = argv[-1]
    pre = f"{cmd}-{opt.lstrip('-')}"
    real = f"real.{suffix}"
    ok(f"{pre}-writes", argv + [f"{{tmp}}/{name}"], files=files, allow=(name,), check=exists_with(name, magic))
    ok(f"{pre}-overwrites-file", argv + [f"{{tmp}}/{name}"], files={**files, name: "old"}, allow=(name,),
       check=exists_with(name, magic))
    ok(f"{pre}-symlink-followed", argv + [f"{{tmp}}/{name}"], files={**files, real: "old", name: Symlink(real)},
       allow=(real,), check=link_kept(name, real, magic))
    either(f"{pre}-symlink-dangling", argv + [f"{{tmp}}/{name}"], name, files={**files, name: Symlink(real)},
           allow=(real,), check=link_kept(name, real, magic, may_be_missing=True))
    bad(f"{pre}-symlink-to-dir", argv + [f"{{tmp}}/{name}"], name, files={**files, "d": Dir(), name: Symlink("d")},
        check=link_kept(name, "d"))
    bad(f"{pre}-fifo", argv + [f"{{tmp}}/{name}"], name, files={**files, name: Fifo()}, check=fifo_kept(name))
    bad(f"{pre}-directory", argv + [f"{{tmp}}/{name}"], name, files={**files, name: Dir()})
    bad(f"{pre}-trailing-slash", argv + ["{tmp}/"], opt.lstrip("-") if cmd == "check" else ("chart", "{tmp}"),
        files=files)
    bad(f"{pre}-missing-parent", argv + [f"{{tmp}}/nope/{name}"], "nope", files=files)
    bad(f"{pre}-parent-is-file", argv + [f"{{tmp}}/f/{name}"], "f", files={**files, "f": "x"})
    bad(f"{pre}-readonly-dir", argv + [f"{{tmp}}/ro/{name}"], "ro", files={**files, "ro": ReadOnlyDir()},
        needs_nonroot=True)
    bad(f"{pre}-full-disk", argv + [f"{{tmp}}/{name}"], name, files=files, fsize=200, mode="subprocess")
    bad(f"{pre}-full-disk-existing", argv + [f"{{tmp}}/{name}"], name, files={**files, name: "old"}, fsize=200,
        mode="subprocess")
    if cmd != "check":
        bad(f"{pre}-bad-suffix", argv + ["{tmp}/out.txt"], "out.txt", files=files)
        bad(f"{pre}-no-suffix", argv + ["{tmp}/out"], "out", files=files)


for _cmd in CHART_COMMANDS:
    target_cases(_cmd)

ok("compare-chart-upper-suffix", CMP + ["--chart", "{tmp}/out.PNG"], allow=("out.PNG",))
ok("compare-chart-unicode-name", CMP + ["--chart", "{tmp}/gr\u00e4fik-\u56fe.png"], allow=("gr\u00e4fik-\u56fe.png",))
either("compare-chart-hidden-name", CMP + ["--chart", "{tmp}/.png"], "chart", allow=(".png",))
bad("compare-chart-newline-missing-dir", CMP + ["--chart", "{tmp}/a\nb/out.png"], ("out.png", "a\\nb"))
bad("compare-chart-bad-input-writes-nothing", ["compare", "conv", "--cin", "0", "--cout", "8", "--chart",
                                               "{tmp}/out.png"], "--cin", files={"out.png": "old"})
either("compare-chart-huge-values", ["compare", "conv", "--cin", "1000000", "--cout", "1000000", "--size", "65536",
                                     "--chart", "{tmp}/x.png"], "x.png", allow=("x.png",),
       check=exists_with("x.png", PNG))
either("arch-chart-many-layers", ["arch", "efficientnet_b0", "--depth", "64", "--resolution", "32", "--by", "type",
                                  "--chart", "{tmp}/x.png"], "x.png", allow=("x.png",), check=exists_with("x.png", PNG),
       timeout=60)
add(Case("check-junit-symlink-exceeded", ["check", "{tmp}/b.toml", "--junit", "{tmp}/out.xml"], 1,
         files={"b.toml": budget_text(max_macs='"500M"'), "real.xml": "old", "out.xml": Symlink("real.xml")},
         allow=("real.xml",), check=link_kept("out.xml", "real.xml", b"<?xml"), stderr_has=("budget exceeded",)))
add(Case("check-junit-full-disk-exceeded", ["check", "{tmp}/b.toml", "--junit", "{tmp}/out.xml"], 2,
         ("out.xml",), files={"b.toml": budget_text(max_macs='"500M"')}, fsize=200, mode="subprocess"))

# report --out
REPORT = ["report", "mobilenet_v1", "--no-crosscheck", "--out"]
ok("report-out-writes", REPORT + ["{tmp}/r"], allow=("r", "r/*"), stderr_empty=True)
ok("report-two-models-no-progress-line", ["report", "mobilenet_v1", "mobilenet_v2", "--no-crosscheck", "--out",
                                          "{tmp}/r"], allow=("r", "r/*"), stderr_empty=True, timeout=60)
ok("report-out-nested-missing-parents", REPORT + ["{tmp}/a/b/c"], allow=("a", "a/*"))
ok("report-out-symlink-to-dir", REPORT + ["{tmp}/r"], files={"real": Dir(), "r": Symlink("real")},
   allow=("real/*",), check=link_kept("r", "real"))
either("report-out-dangling-symlink", REPORT + ["{tmp}/r"], "r", files={"r": Symlink("real")},
       allow=("real", "real/*"), check=link_kept("r", "real", may_be_missing=True))
bad("report-out-is-file", REPORT + ["{tmp}/r"], "r", files={"r": "x"})
bad("report-out-is-fifo", REPORT + ["{tmp}/r"], "r", files={"r": Fifo()}, check=fifo_kept("r"))
bad("report-out-charts-is-file", REPORT + ["{tmp}/r"], "charts", files={"r": Dir(), "r/charts": "x"})
bad("report-out-readonly", REPORT + ["{tmp}/ro/r"], "ro", files={"ro": ReadOnlyDir()}, needs_nonroot=True)
bad("report-out-full-disk", REPORT + ["{tmp}/r"], "r", fsize=4096, mode="subprocess")
bad("report-out-full-disk-existing-dir", REPORT + ["{tmp}/r"], "r", files={"r": Dir(), "r/keep.md": "keep"},
    fsize=4096, mode="subprocess")
bad("report-unknown-model", ["report", "nope", "--no-crosscheck", "--out", "{tmp}/r"], "nope")
bad("report-no-names", ["report", "--out", "{tmp}/r"], ("NAME", "--all"))
bad("report-all-and-names", ["report", "--all", "mobilenet_v1", "--out", "{tmp}/r"], "--all")
bad("report-second-model-unknown-writes-nothing", ["report", "mobilenet_v1", "nope", "--no-crosscheck", "--out",
                                                   "{tmp}/r"], "nope")
bad("report-convention-bogus", REPORT + ["{tmp}/r", "--convention", "x"], "--convention")
bad("report-bad-toml-model", ["report", "{tmp}/net.toml", "--no-crosscheck", "--out", "{tmp}/r"], "stages[2].groups",
    files={"net.toml": arch_text(stages={2: {"groups": "3"}})})

# ======================================================================================================================
# crosscheck and analyze (torch)
# ======================================================================================================================

ok("crosscheck-toml-file", ["crosscheck", TINY, "--tracer", "torch", "--resolution", "32"], torch=True)
ok("crosscheck-toml-file-in-tmp", ["crosscheck", "{tmp}/net.toml", "--tracer", "torch"],
   files={"net.toml": arch_text()}, torch=True)
bad("crosscheck-bad-toml", ["crosscheck", "{tmp}/net.toml", "--tracer", "torch"], "stages[2].groups",
    files={"net.toml": arch_text(stages={2: {"groups": "3"}})}, torch=True)
bad("crosscheck-missing-toml", ["crosscheck", "{tmp}/missing.toml", "--tracer", "torch"], "missing.toml", torch=True)
bad("crosscheck-unknown", ["crosscheck", "nope"], "nope", torch=True)
for label, value in {"zero": "0", "neg": "-1", "over": "65537", "huge": HUGE}.items():
    bad(f"crosscheck-resolution-{label}", ["crosscheck", "mobilenet_v2", "--tracer", "torch", "--resolution", value],
        "resolution", torch=True)
bad("crosscheck-resolution-below-smallest", ["crosscheck", "densenet121", "--tracer", "torch", "--resolution", "28"],
    "the smallest it takes is 29", torch=True)
bad("crosscheck-tracer-bogus", ["crosscheck", "mobilenet_v2", "--tracer", "x"], "--tracer")
bad("crosscheck-source-bogus", ["crosscheck", "mobilenet_v2", "--source", "x"], "--source")
ok("crosscheck-mobilenet-v2-small", ["crosscheck", "mobilenet_v2", "--tracer", "torch", "--resolution", "32"],
   torch=True)
# `crosscheck all` without a progress line: tests/test_crosscheck.py::test_cli_crosscheck_all_is_every_builtin
bad("crosscheck-all-resolution-too-small", ["crosscheck", "all", "--tracer", "torch", "--resolution", "32"],
    "inception_v3", torch=True)

for label, value in {"empty": "", "zero": "1,3,0,32", "neg": "1,3,-1,32", "abc": "abc", "one-dim": "1",
                     "seven-dims": "1,3,32,32,1,1,1", "over-size": "1,3,65537,65537", "batch-over": "1000001,3,32,32",
                     "huge": f"{HUGE},3,32,32", "inf": "1,3,inf,32", "float": "1,3,32.5,32",
                     }.items():
    bad(f"analyze-input-{label}", ["analyze", "torchvision.models:resnet18", "--input", value], "--input")
bad("analyze-input-no-batch", ["analyze", "torchvision.models:resnet18", "--input", "3,32,32"], "batch", torch=True)
bad("analyze-input-wrong-channels", ["analyze", "torchvision.models:resnet18", "--input", "1,4,32,32"],
    "torchvision.models:resnet18", torch=True)
ok("analyze-resnet18-small", ["analyze", "torchvision.models:resnet18", "--input", "1,3,32,32"], torch=True)
ok("analyze-resnet18-x-separated", ["analyze", "torchvision.models:resnet18", "--input", "1x3x32x32"], torch=True)
for label, spec in {"no-colon": "torchvision.models", "empty-module": ":make", "empty-attr": "torchvision.models:",
                    "missing-attr": "torchvision.models:nope_nope"}.items():
    bad(f"analyze-spec-{label}", ["analyze", spec, "--input", "1,3,8,8"], ("MODULE:CALLABLE", spec.split(":")[-1] or spec),
        torch=True)
bad("analyze-spec-missing-module", ["analyze", "nope_nope_module:make", "--input", "1,3,8,8"], "nope_nope_module",
    torch=True)
either("analyze-input-unicode-digits", ["analyze", "torchvision.models:resnet18", "--input", "1,3,\u0663\u0662,32"],
       "--input", torch=True)
bad("analyze-not-callable-attr", ["analyze", "math:pi", "--input", "1,3,8,8"], "math:pi", torch=True)
bad("analyze-returns-str", ["analyze", "os:getcwd", "--input", "1,3,8,8"], "os:getcwd", torch=True)
bad("analyze-tracer-bogus", ["analyze", "torchvision.models:resnet18", "--tracer", "x"], "--tracer")
bad("analyze-device-bogus", ["analyze", "torchvision.models:resnet18", "--device", "cuda"], "--device")

USER_MODULE = '''\
import sys
import torch
from torch import nn
{toplevel}

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        {init}
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        {forward}
        return self.conv(x)


def make():
    {make}
    return Net()
'''


def user_module(toplevel: str = "", init: str = "pass", forward: str = "pass", make: str = "pass",
                body: Optional[str] = None) -> str:
    if body is not None:
        return body
    return USER_MODULE.format(toplevel=toplevel, init=init, forward=forward, make=make)


def user_case(label: str, mode: str = "inproc", callable_name: str = "make", exit=2, at_import: bool = False,
              **module) -> Case:
    """analyze on a user module; the error names the callable (the module, for errors while importing it)."""
    mod = "umod_" + label.replace("-", "_")
    spec = f"{mod}:{callable_name}"
    return add(Case(f"analyze-user-{label}", ["analyze", spec, "--input", "1,3,8,8"], exit,
                    ((mod if at_import else spec),) if exit == 2 else (), files={f"{mod}.py": user_module(**module)},
                    mode=mode, torch=True))


user_case("systemexit-3-in-make", mode="subprocess", make="raise SystemExit(3)")
user_case("sys-exit-7-in-forward", mode="subprocess", forward="sys.exit(7)")
user_case("systemexit-0-in-forward", mode="subprocess", forward="raise SystemExit(0)")
user_case("keyboardinterrupt-in-make", mode="subprocess", make="raise KeyboardInterrupt")
user_case("keyboardinterrupt-in-forward", mode="subprocess", forward="raise KeyboardInterrupt")
add(Case("analyze-user-systemexit-at-import", ["analyze", "umod_exit_at_import:make", "--input", "1,3,8,8"], 2,
         ("umod_exit_at_import",), files={"umod_exit_at_import.py": "import sys\nsys.exit(0)\n"}, mode="subprocess",
         torch=True))
user_case("valueerror-in-init", init="raise ValueError('bad init')")
user_case("valueerror-in-forward", forward="raise ValueError('bad forward')")
user_case("valueerror-in-make", make="raise ValueError('bad make')")
user_case("recursion-in-forward", forward="return self.forward(x)")
user_case("assert-in-forward", forward="assert False, 'nope'")
user_case("returns-int", make="return 42")
user_case("returns-none", make="return None")
user_case("returns-class", make="return Net")
user_case("not-callable", callable_name="make", body="make = 5\n")
user_case("needs-arguments", body="def make(width):\n    return width\n")
user_case("runtimeerror-at-import", body="raise RuntimeError('import boom')\n", at_import=True)
user_case("syntax-error", body="def make(:\n", at_import=True)
user_case("sys-exit-1-in-forward", mode="subprocess", forward="sys.exit(1)")
user_case("sys-exit-2-in-forward", mode="subprocess", forward="sys.exit(2)")
user_case("sys-exit-none-in-forward", mode="subprocess", forward="sys.exit()")
user_case("sys-exit-0-in-make", mode="subprocess", make="sys.exit(0)")
user_case("sys-exit-string-in-make", mode="subprocess", make="sys.exit('bye')")
user_case("forward-returns-none", exit=OK_OR_2, forward="return None")
add(Case("analyze-user-missing-attr", ["analyze", "umod_missing_attr:nope", "--input", "1,3,8,8"], 2, ("nope",),
         files={"umod_missing_attr.py": "def make():\n    pass\n"}, torch=True))

# budgets counted with torch
USER_BUDGET_MODULE = user_module(forward="raise ValueError('bad forward')")
bad("check-module-forward-raises", ["check", "{tmp}/b.toml"], "umod_budget_forward:make",
    files={"b.toml": budget_text(model='"umod_budget_forward:make"', input="[1, 3, 8, 8]"),
           "umod_budget_forward.py": USER_BUDGET_MODULE}, torch=True)
bad("check-module-forward-systemexit", ["check", "{tmp}/b.toml"], "umod_budget_exit:make",
    files={"b.toml": budget_text(model='"umod_budget_exit:make"', input="[1, 3, 8, 8]"),
           "umod_budget_exit.py": user_module(forward="raise SystemExit(3)")}, mode="subprocess", torch=True)
bad("check-torchvision-four-channels", ["check", "{tmp}/b.toml"], "torchvision.models:mobilenet_v2",
    files={"b.toml": budget_text(model='"torchvision.models:mobilenet_v2"', input="[1, 4, 224, 224]")}, torch=True)
ok("check-torchvision-small", ["check", "{tmp}/b.toml"],
   files={"b.toml": budget_text(model='"torchvision.models:mobilenet_v2"', input="[1, 3, 32, 32]", max_macs='"1G"')},
   torch=True)
bad("check-module-missing", ["check", "{tmp}/b.toml"], "nope_nope_module",
    files={"b.toml": budget_text(model='"nope_nope_module:make"', input="[1, 3, 8, 8]")}, torch=True)

# ======================================================================================================================
# process-level: encodings, closed stdout
# ======================================================================================================================

bad("proc-undecodable-argv-path", ["arch", b"{tmp}/\xff\xfe.toml"], ".toml", mode="subprocess")
bad("proc-undecodable-kind", ["compare", b"conv\xff", "--cin", "3", "--cout", "8"], ("kind", "KIND"),
    mode="subprocess")
either("proc-ascii-stdout-unicode-name", ["arch", "{tmp}/net.toml", "--by", "stage"], "net.toml",
       files={"net.toml": arch_text(top={"name": '"\u7f51\u7edc"'})}, env={"PYTHONIOENCODING": "ascii"},
       mode="subprocess")
either("proc-stdout-closed-list", ["list"], mode="subprocess", stdout_closed=True)
either("proc-stdout-closed-arch", ["arch", "efficientnet_b7", "--format", "csv"], mode="subprocess",
       stdout_closed=True)


def _check_unique() -> None:
    seen = set()
    for case in CASES:
        assert case.id not in seen, f"duplicate case id {case.id}"
        seen.add(case.id)
        assert case.mode in ("inproc", "subprocess"), case.id
        assert not (case.fsize and case.mode != "subprocess"), case.id


_check_unique()

# ======================================================================================================================
# input files that are FIFOs: opening one waits for a writer, so each is refused by its kind before it is opened
for label, argv, name in (("arch", ["arch"], "net.toml"), ("report", ["report", "--out", "{tmp}/out"], "net.toml"),
                          ("check", ["check"], "b.toml"),
                          ("latency-device", ["latency", "mobilenet_v2", "--device"], "dev.toml")):
    bad(f"input-fifo-{label}", argv + [f"{{tmp}}/{name}"], "not a regular file", files={name: Fifo()},
        check=fifo_kept(name))
# an output target that is the input it was read from: refused, the budget file left as it was
bad("check-junit-is-the-budget-file", ["check", "{tmp}/b.toml", "--junit", "{tmp}/b.toml"], "this run reads or writes",
    files={"b.toml": budget_text()})
bad("check-step-summary-is-the-budget-file", ["check", "{tmp}/b.toml"], "this run reads or writes",
    env={"GITHUB_STEP_SUMMARY": "{tmp}/b.toml"}, files={"b.toml": budget_text()})
# nor a file the budgets read (an architecture or device TOML), nor the other output
bad("check-junit-is-a-model-file", ["check", "{tmp}/b.toml", "--junit", "{tmp}/net.toml"], "this run reads or writes",
    files={"b.toml": '[[budget]]\nmodel = "net.toml"\nmax_macs = "1G"\n', "net.toml": arch_text()})
bad("check-step-summary-is-a-device-file", ["check", "{tmp}/b.toml"], "this run reads or writes",
    env={"GITHUB_STEP_SUMMARY": "{tmp}/dev.toml"},
    files={"b.toml": '[[budget]]\nmodel = "mobilenet_v2"\nmax_latency_ms = 50\ndevice = "dev.toml"\n',
           "dev.toml": device_text()})
bad("check-junit-is-the-step-summary", ["check", "{tmp}/b.toml", "--junit", "{tmp}/s.md"], "this run reads or writes",
    env={"GITHUB_STEP_SUMMARY": "{tmp}/s.md"}, files={"b.toml": budget_text(), "s.md": "# summary\n"})
bad("check-junit-is-the-step-summary-not-yet-there", ["check", "{tmp}/b.toml", "--junit", "{tmp}/new.md"],
    "this run reads or writes", env={"GITHUB_STEP_SUMMARY": "{tmp}/new.md"}, files={"b.toml": budget_text()})
