#!/usr/bin/env python3
"""How low can MASE go on the nab-aws series? Oracles that see the future, scored with the
protocol of ../shared/data/nab-aws/README.md (origins 576 + 12k, horizons 12 and 72 rows,
scale = mean |y_t - y_{t-1}| over the rows before the origin, median across series).

- flat oracle: at each origin, the median of the rows it is scored on. No flat forecast
  (every robust baseline, the median, Holt's level) can beat it on that window.
- shape oracle: the flat oracle plus the series' own daily shape, taken from all its rows
  (the median of the rows within +-1 h of each time of day), centred on the window.

Usage: forecast_floor.py FILE.csv...   (standard library only)
"""
import csv
import statistics as st
import sys

DAY, WARMUP, STEP, HORIZONS = 288, 576, 12, (12, 72)


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [float(r[1]) for r in rows]


def daily_shape(ys, half=12):
    by_slot = [[] for _ in range(DAY)]
    for i, y in enumerate(ys):
        by_slot[i % DAY].append(y)
    shape = []
    for s in range(DAY):
        near = [y for d in range(-half, half + 1) for y in by_slot[(s + d) % DAY]]
        shape.append(st.median(near))
    return shape


def scores(ys):
    n = len(ys)
    diffs = [abs(ys[i] - ys[i - 1]) for i in range(1, n)]
    cum = [0.0]
    for d in diffs:
        cum.append(cum[-1] + d)
    shape = daily_shape(ys)
    out = {(k, h): [] for k in ("flat", "shape") for h in HORIZONS}
    o = WARMUP
    while o + max(HORIZONS) <= n:
        scale = cum[o - 1] / (o - 1)
        for h in HORIZONS:
            fut = ys[o : o + h]
            level = st.median(fut)
            prof = [shape[t % DAY] for t in range(o, o + h)]
            centre = st.median(prof)
            flat = sum(abs(y - level) for y in fut) / h / scale
            shaped = sum(abs(y - (level + p - centre)) for y, p in zip(fut, prof)) / h / scale
            out[("flat", h)].append(flat)
            out[("shape", h)].append(shaped)
        o += STEP
    return {k: st.mean(v) for k, v in out.items()}


def main(paths):
    table = {}
    print(f"{'series':<34} {'flat 1h':>8} {'flat 6h':>8} {'shape 1h':>9} {'shape 6h':>9}")
    for p in paths:
        name = p.rsplit("/", 1)[-1].removesuffix(".csv")
        s = scores(load(p))
        table[name] = s
        print(f"{name:<34} {s[('flat', 12)]:8.3f} {s[('flat', 72)]:8.3f} "
              f"{s[('shape', 12)]:9.3f} {s[('shape', 72)]:9.3f}")
    med = {k: st.median(t[k] for t in table.values()) for k in next(iter(table.values()))}
    print(f"{'median across series':<34} {med[('flat', 12)]:8.3f} {med[('flat', 72)]:8.3f} "
          f"{med[('shape', 12)]:9.3f} {med[('shape', 72)]:9.3f}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
