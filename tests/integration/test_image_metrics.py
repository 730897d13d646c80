#!/usr/bin/python3
"""Image metrics and PNG files of medseal against scikit-image, numpy and PIL.

Arrays are written as PNG (by PIL) or raw float32, the helper mode of the
unit test program (build/test_image metrics|copy|window) computes medseal's
figures, and they are compared with skimage.metrics (PSNR, SSIM with both
windows, MSE) and numpy (NPCR, UACI, adjacent-pixel correlation, entropy) to
1e-6 relative. PNGs written by medseal are read back by PIL and must be
equal. Environment: MEDSEAL_BUILD (build directory), MEDSEAL_SRC."""
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
from skimage.metrics import (mean_squared_error, peak_signal_noise_ratio,
                             structural_similarity)

from itlib import BUILD, check, finish

HELPER = os.path.join(BUILD, "test_image")
REL = 1e-6


def close(name, got, want):
    if math.isinf(want) or math.isnan(want):
        ok = (math.isinf(got) and math.isinf(want) and (got > 0) == (want > 0)) or \
             (math.isnan(got) and math.isnan(want))
    else:
        ok = abs(got - want) <= REL * max(abs(want), 1e-12) or abs(got - want) <= 1e-12
    check(ok, f"{name}: medseal {got!r}, reference {want!r}")


def helper(*args):
    r = subprocess.run([HELPER, *map(str, args)], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def medseal_metrics(a_spec, b_spec, peak):
    rc, out, err = helper("metrics", a_spec, b_spec, peak)
    check(rc == 0, f"metrics {a_spec} {b_spec}: exit {rc} {err.strip()}")
    vals = {}
    for line in out.splitlines():
        k, v = line.split()
        vals[k] = float(v)
    return vals


def pairs(a, dy, dx):
    """Adjacent pairs within each channel, pooled."""
    h, w = a.shape[:2]
    s = a[:h - dy, :w - dx].reshape(-1)
    t = a[dy:, dx:].reshape(-1)
    if a.ndim == 3:  # keep samples of one channel together
        s = a[:h - dy, :w - dx].reshape(-1, a.shape[2]).T.reshape(-1)
        t = a[dy:, dx:].reshape(-1, a.shape[2]).T.reshape(-1)
    return s, t


def reference(a, b, peak, entropy=True):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    ch = 2 if a.ndim == 3 else None
    ref = {
        "mse": mean_squared_error(a, b),
        "psnr": peak_signal_noise_ratio(a, b, data_range=peak) if not np.array_equal(a, b)
        else math.inf,
        "ssim_uniform7": structural_similarity(a, b, data_range=peak, channel_axis=ch),
        "ssim_gaussian11": structural_similarity(a, b, data_range=peak, channel_axis=ch,
                                                 gaussian_weights=True, sigma=1.5,
                                                 use_sample_covariance=False),
        "npcr": 100.0 * np.mean(a != b),
        "uaci": 100.0 * np.mean(np.abs(a - b)) / peak,
    }
    ref["rmse"] = math.sqrt(ref["mse"])
    for name, (dy, dx) in {"corr_h": (0, 1), "corr_v": (1, 0), "corr_d": (1, 1)}.items():
        s, t = pairs(a, dy, dx)
        ref[name] = np.corrcoef(s, t)[0, 1]
    if entropy:
        _, counts = np.unique(a, return_counts=True)
        p = counts / counts.sum()
        ref["entropy"] = float(-(p * np.log2(p)).sum())
    return ref


def compare(label, got, ref):
    for k, v in ref.items():
        check(k in got, f"{label}: no {k}")
        if k in got:
            close(f"{label} {k}", got[k], v)


def save_png(path, arr):
    Image.fromarray(arr).save(path)


def read_png(path):
    return np.array(Image.open(path)).astype(np.int64)


def main():
    if not os.access(HELPER, os.X_OK):
        print(f"helper {HELPER} not built", file=sys.stderr)
        return 1
    rng = np.random.default_rng(20240601)
    with tempfile.TemporaryDirectory() as d:
        p = lambda name: os.path.join(d, name)

        # 8-bit grey: a smooth image and a noisy copy
        y, x = np.mgrid[0:48, 0:64]
        a8 = ((np.sin(x / 7.0) + np.cos(y / 5.0)) * 60 + 128).astype(np.uint8)
        b8 = np.clip(a8.astype(int) + rng.integers(-20, 21, a8.shape), 0, 255).astype(np.uint8)
        save_png(p("a8.png"), a8)
        save_png(p("b8.png"), b8)
        compare("grey8", medseal_metrics(p("a8.png"), p("b8.png"), 255), reference(a8, b8, 255))
        compare("grey8 same", medseal_metrics(p("a8.png"), p("a8.png"), 255),
                reference(a8, a8, 255))

        # uniform 8-bit histogram: entropy 8
        u8 = np.arange(256, dtype=np.uint8).reshape(16, 16)
        save_png(p("u8.png"), u8)
        close("uniform entropy", medseal_metrics(p("u8.png"), p("u8.png"), 255)["entropy"], 8.0)

        # cipher-like: two independent uniform images (NPCR ~99.6, UACI ~33.4)
        c1 = rng.integers(0, 256, (64, 64), dtype=np.uint8)
        c2 = rng.integers(0, 256, (64, 64), dtype=np.uint8)
        save_png(p("c1.png"), c1)
        save_png(p("c2.png"), c2)
        compare("cipher", medseal_metrics(p("c1.png"), p("c2.png"), 255), reference(c1, c2, 255))

        # 16-bit grey, 12-bit CT-like values
        a16 = (np.hypot(x - 30, y - 20) * 40 + 100).astype(np.uint16)
        b16 = np.clip(a16.astype(int) + rng.integers(-50, 51, a16.shape), 0, 4095).astype(np.uint16)
        save_png(p("a16.png"), a16)
        save_png(p("b16.png"), b16)
        check(Image.open(p("a16.png")).mode.startswith("I"), "PIL wrote a 16-bit PNG")
        compare("grey16", medseal_metrics(p("a16.png"), p("b16.png"), 4095),
                reference(a16, b16, 4095))

        # RGB 8-bit: SSIM is the mean over channels (channel_axis)
        rgb_a = np.stack([a8, 255 - a8, (a8 // 2 + 60).astype(np.uint8)], axis=2)
        rgb_b = np.stack([b8, 255 - a8, (b8 // 2 + 60).astype(np.uint8)], axis=2)
        save_png(p("ra.png"), rgb_a)
        save_png(p("rb.png"), rgb_b)
        compare("rgb", medseal_metrics(p("ra.png"), p("rb.png"), 255),
                reference(rgb_a, rgb_b, 255))

        # float32 Hounsfield units (raw), data range 4096
        hu_a = (np.sin(x / 9.0) * np.cos(y / 6.0) * 1000 + 200).astype(np.float32)
        hu_b = (hu_a + rng.normal(0, 15, hu_a.shape)).astype(np.float32)
        hu_a.tofile(p("hu_a.f32"))
        hu_b.tofile(p("hu_b.f32"))
        spec = lambda n: f"f32:64:48:1:{p(n)}"
        compare("float HU", medseal_metrics(spec("hu_a.f32"), spec("hu_b.f32"), 4096),
                reference(hu_a, hu_b, 4096, entropy=False))

        # PNGs written by medseal read back by PIL
        for name, depth in (("a8.png", 8), ("a16.png", 16), ("ra.png", 8)):
            rc, _, err = helper("copy", p(name), p("copy_" + name), depth, 0)
            check(rc == 0, f"copy {name}: {err.strip()}")
            check(np.array_equal(read_png(p(name)), read_png(p("copy_" + name))),
                  f"PIL reads back {name} as written")
        rc, _, err = helper("copy", spec("hu_a.f32"), p("hu16.png"), 16, 1024)
        check(rc == 0, f"copy HU: {err.strip()}")
        want = np.floor(hu_a.astype(np.float64) + 1024 + 0.5).astype(np.int64)
        check(np.array_equal(read_png(p("hu16.png")), want), "16-bit HU + 1024 as PIL reads it")

        # window (PS3.3 C.11.2.1.2.1) on 16-bit stored values: C=1224 W=1500
        rc, _, err = helper("window", p("hu16.png"), p("win.png"), 1224, 1500)
        check(rc == 0, f"window: {err.strip()}")
        v = read_png(p("hu16.png")).astype(np.float64)
        c, w = 1224.0, 1500.0
        lin = np.floor(((v - (c - 0.5)) / (w - 1) + 0.5) * 255 + 0.5)
        exp = np.where(v <= c - 0.5 - (w - 1) / 2, 0,
                       np.where(v > c - 0.5 + (w - 1) / 2, 255, np.clip(lin, 0, 255)))
        check(np.array_equal(read_png(p("win.png")), exp.astype(np.int64)), "window rendering")

        # a truncated PNG and a size mismatch: clean errors
        data = open(p("a8.png"), "rb").read()
        open(p("trunc.png"), "wb").write(data[: len(data) // 2])
        rc, _, err = helper("metrics", p("trunc.png"), p("a8.png"), 255)
        check(rc == 3 and "PNG" in err, f"truncated PNG: exit {rc} {err.strip()}")
        rc, _, err = helper("metrics", p("a8.png"), p("c1.png"), 255)
        check(rc == 4 and "differ in size" in err, f"size mismatch: exit {rc} {err.strip()}")

    return finish()


if __name__ == "__main__":
    sys.exit(main())
