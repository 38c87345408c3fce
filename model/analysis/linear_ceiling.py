# How much of the next 50 ms window is predictable from the features at all: linear reference forecasters on the lab split.
"""
Fits least-absolute-deviation (LAD) linear autoregressions on the training traces and scores them, with
persistence and EWMA, on the held-out traces' `all` series: the same split, windows and MAE as `tcpcast eval`.
A linear model cannot overfit much, so its held-out MAE is a sober estimate of what the features carry about
the next window on an unseen link; see model/README.md ("How far can a forecast get?").

    python3 model/analysis/linear_ceiling.py data/lab data/lab2     # numpy only
"""
import csv
import glob
import os
import sys

import numpy as np

FEATURES = ['size', 'delay', 'bif', 'iat_mean', 'iat_std', 'throughput_mbps', 'delay_gradient', 'bif_gradient', 'is_silent']
HELD_OUT = ('Verizon-LTE-short', 'TMobile-UMTS-driving')
L = 15
FLOOR = 0.1  # the relative encoding's level floor (src/forecast/scaler.ts)


def load(dirs):
    out = {}
    for d in dirs:
        for f in sorted(glob.glob(os.path.join(d, '*', 'windows.csv'))):
            rows = [r for r in csv.DictReader(open(f)) if r['series'] == 'all']
            out[f] = np.array([[float(r[k] or 0) for k in FEATURES] for r in rows])
    return out


def samples(x, thr_only):
    """Level-relative inputs (as the relative encoding), target next / level, level, last throughput."""
    n = len(x) - L
    seq = np.stack([x[t:t + L] for t in range(n)])
    level = seq[:, :, 5].mean(1) + FLOOR
    level_bytes = level * 1e6 * 0.05 / 8
    cols = [seq[:, :, 5] / level[:, None]]
    if not thr_only:
        d = np.where(seq[:, :, 1] > 0, seq[:, :, 1], np.inf).min(1)
        d = np.where(np.isfinite(d), d, 1)
        cols += [seq[:, :, 2] / level_bytes[:, None], seq[:, :, 7] / level_bytes[:, None], seq[:, :, 1] / d[:, None],
                 seq[:, :, 6] / d[:, None], seq[:, :, 8], seq[:, :, 3], seq[:, :, 4]]
    return np.hstack(cols + [np.ones((n, 1))]), x[L:, 5] / level, level, seq[:, -1, 5]


def lad(a, y, iters=50):
    """Least absolute deviations by iteratively reweighted least squares."""
    w = np.linalg.lstsq(a, y, rcond=None)[0]
    for _ in range(iters):
        r = 1 / (np.abs(a @ w - y) + 1e-4)
        w = np.linalg.solve((a * r[:, None]).T @ a + 1e-6 * np.eye(a.shape[1]), (a * r[:, None]).T @ y)
    return w


def ewma(y, alpha=0.3):
    s, out = y[0], []
    for v in y:
        s = alpha * v + (1 - alpha) * s
        out.append(s)
    return np.array(out)


def main():
    data = load(sys.argv[1:] or ['data/lab'])
    test = [f for f in data if any(h in f for h in HELD_OUT)]
    train = [f for f in data if f not in test]
    actual = np.concatenate([data[f][L:, 5] for f in test])
    pers = np.concatenate([data[f][L - 1:-1, 5] for f in test])
    ew = np.concatenate([ewma(data[f][:, 5])[L - 1:-1] for f in test])
    mae = lambda p: np.abs(p - actual).mean()
    print(f'{len(train)} training sessions, {len(test)} held-out sessions, {len(actual)} forecasts')
    print(f'persistence   MAE {mae(pers):.3f}')
    print(f'EWMA 0.3      MAE {mae(ew):.3f}')
    for name, thr_only in (('LAD, throughput history only', True), ('LAD, all nine features', False)):
        parts = [samples(data[f], thr_only) for f in train]
        w = lad(np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        tests = [samples(data[f], thr_only) for f in test]
        pred = np.concatenate([np.maximum(0, t[0] @ w) * t[2] for t in tests])
        print(f'{name:30s} MAE {mae(pred):.3f} ({mae(pred) / mae(pers):.3f}x persistence, {mae(pred) / mae(ew):.3f}x EWMA)')


if __name__ == '__main__':
    main()
