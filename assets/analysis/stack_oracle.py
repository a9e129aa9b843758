#!/usr/bin/env python3
"""Can a blend of simple forecasts beat the automatic choice on one series? The weights are
chosen knowing the future (every blend on a 0.25 grid is scored on the very origins it is
judged on), so no past-only combination of these members can do better.

Members, each past-only at its origin: the median of the last 12, 36 and 288 rows, and the
recent median moved along the series' daily profile (median of the rows within +-1 h of the
same time on earlier days), multiplicatively over 72 and 12 rows and additively over 36.
Protocol of ../shared/data/nab-aws/README.md: origins 576 + 12k, horizons 12 and 72 rows,
scale = mean |y_t - y_{t-1}| over the rows before the origin.

Usage: stack_oracle.py FILE.csv   (standard library only; a few minutes per series)
"""
import csv
import itertools
import statistics as st
import sys

DAY, WARMUP, STEP, HORIZONS = 288, 576, 12, (12, 72)


def load(path):
    with open(path, newline="") as f:
        return [float(r[1]) for r in list(csv.reader(f))[1:]]


def median_of_last(k):
    return lambda h, o: [st.median(h[-k:])] * 72


def profile_moved(k, mult, half=12):
    def forecast(h, o):
        level = st.median(h[-k:])

        def past_days(lo, hi):
            return [h[j] for d in range(1, 30) for j in range(lo - d * DAY, hi - d * DAY)
                    if 0 <= j < len(h)]

        now = st.median(past_days(o - k, o) or [level])
        out = []
        for s in range(72):
            near = past_days(o + s - half, o + s + half + 1)
            if not near:
                out.append(level)
                continue
            p = st.median(near)
            out.append(level * p / now if mult and now > 0 else level + p - now)
        return out
    return forecast


MEMBERS = [median_of_last(12), median_of_last(36), median_of_last(288),
           profile_moved(72, True), profile_moved(36, False), profile_moved(12, True)]


def main(path):
    ys = load(path)
    n = len(ys)
    cum = [0.0]
    for i in range(1, n):
        cum.append(cum[-1] + abs(ys[i] - ys[i - 1]))
    origins = list(range(WARMUP, n - 72 + 1, STEP))
    runs = {o: [m(ys[:o], o) for m in MEMBERS] for o in origins}

    def score(w, h):
        total = 0.0
        for o in origins:
            scale = cum[o - 1] / (o - 1)
            f = [sum(wi * r[s] for wi, r in zip(w, runs[o])) for s in range(h)]
            total += sum(abs(ys[o + s] - f[s]) for s in range(h)) / h / scale
        return total / len(origins)

    grid = [i / 4 for i in range(5)]
    best = {h: (float("inf"), None) for h in HORIZONS}
    for w in itertools.product(grid, repeat=len(MEMBERS)):
        if abs(sum(w) - 1) > 1e-9:
            continue
        for h in HORIZONS:
            s = score(w, h)
            if s < best[h][0]:
                best[h] = (s, w)
    for h in HORIZONS:
        print(f"h={h:<3} best blend MASE {best[h][0]:.3f}  weights {best[h][1]}")
    for i, m in enumerate(MEMBERS):
        w = [0.0] * len(MEMBERS)
        w[i] = 1.0
        print(f"member {i}: MASE {score(w, 12):.3f} / {score(w, 72):.3f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
