#!/usr/bin/env python3
"""Can any level forecast reach the issue's MASE targets on the nab-aws series? An oracle that
sees both sides of every scored row, scored with the protocol of
../shared/data/nab-aws/README.md (origins 576 + 12k, horizons 12 and 72 rows, scale = mean
|y_t - y_{t-1}| over the rows before the origin, median across series).

For each scored row t the oracle "forecasts" a robust level of its neighbours: the `half` rows
before t and the `half` rows after it, leaving out row t itself. It knows the future around
every target, which no forecast does, and it cannot fit the scored row's own noise (the flat
oracle of forecast_floor.py can, which makes that one optimistic). If the residuals around the
level are close to white noise and do not recur at the same time each day (seasonal naive is
no better than naive), no past-only forecast can be expected to beat the best of these.

It also prints the autocorrelation of the residuals around a centred 37-row median at lags
1, 2, 12 and 288: near zero means there is nothing row-to-row left to forecast.

Usage: two_sided_oracle.py FILE.csv...   (standard library only; about 10 s per series)
"""
import csv
import statistics as st
import sys

WARMUP, STEP, HORIZONS = 576, 12, (12, 72)
HALVES = (6, 12, 24, 36, 72)
LAGS = (1, 2, 12, 288)


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [float(r[1]) for r in rows]


def interquartile_mean(xs):
    xs = sorted(xs)
    k = len(xs) // 4
    mid = xs[k : len(xs) - k]
    return sum(mid) / len(mid)


ESTIMATORS = {"median": st.median, "iq-mean": interquartile_mean}


def neighbours(ys, t, half):
    return ys[max(0, t - half) : t] + ys[t + 1 : t + 1 + half]


def score(ys, level):
    """Mean MASE over the protocol's origins of the forecast `level[t]` for each row t."""
    n = len(ys)
    cum = [0.0]
    for i in range(1, n):
        cum.append(cum[-1] + abs(ys[i] - ys[i - 1]))
    out = {h: [] for h in HORIZONS}
    o = WARMUP
    while o + max(HORIZONS) <= n:
        scale = cum[o - 1] / (o - 1)
        for h in HORIZONS:
            out[h].append(sum(abs(ys[t] - level[t]) for t in range(o, o + h)) / h / scale)
        o += STEP
    return tuple(st.mean(out[h]) for h in HORIZONS)


def autocorrelations(ys, half=18):
    res = [ys[t] - st.median(ys[max(0, t - half) : t + half + 1]) for t in range(len(ys))]
    mean = st.mean(res)
    dev = [r - mean for r in res]
    var = sum(d * d for d in dev)
    return [sum(dev[i] * dev[i + lag] for i in range(len(dev) - lag)) / var for lag in LAGS]


def main(paths):
    table = {}
    for path in paths:
        name = path.rsplit("/", 1)[-1].removesuffix(".csv")
        ys = load(path)
        acf = autocorrelations(ys)
        for est_name, est in ESTIMATORS.items():
            for half in HALVES:
                level = [est(neighbours(ys, t, half)) for t in range(len(ys))]
                table[(name, est_name, half)] = score(ys, level)
        best = min((v for k, v in table.items() if k[0] == name), key=lambda v: v[0])
        print(
            f"{name:30} best two-sided {best[0]:.3f} / {best[1]:.3f}   residual acf "
            + " ".join(f"lag {lag}: {a:+.3f}" for lag, a in zip(LAGS, acf))
        )
    names = sorted({k[0] for k in table})
    print("\nmedian across series, MASE 1 h / 6 h (neighbours on each side):")
    for est_name in ESTIMATORS:
        cells = []
        for half in HALVES:
            pairs = [table[(n, est_name, half)] for n in names]
            cells.append(
                f"{half:3}: {st.median(p[0] for p in pairs):.3f} / "
                f"{st.median(p[1] for p in pairs):.3f}"
            )
        print(f"  {est_name:8} " + "   ".join(cells))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
