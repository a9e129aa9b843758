#!/usr/bin/env python3
"""Does the RDS series' row-to-row alternation help a forecast reach the issue's targets?

RDS cc0c53's residuals around a centred 37-row median alternate in sign from row to row
(autocorrelation about -0.2 at odd lags, +0.2 at even lags, out to lag 30). This scores, with
the protocol of ../shared/data/nab-aws/README.md (origins 576 + 12k, MASE over steps 1..12
and 1..72, scale = mean |y_t - y_{t-1}| before the origin), the median of the last 36 rows
alone and with an offset per row parity learnt from the past (the median residual of even
and of odd rows around a local median, over the last 288 or 72 rows).

Usage: parity_check.py FILE.csv...   (standard library only; about 20 s per series)
"""
import csv
import statistics as st
import sys


def load(path):
    with open(path, newline="") as f:
        return [float(r[1]) for r in list(csv.reader(f))[1:]]


def run(ys, window=36, lookback=288, period=2, use=True):
    n = len(ys)
    cum = [0.0]
    for i in range(1, n):
        cum.append(cum[-1] + abs(ys[i] - ys[i - 1]))
    s12, s72 = [], []
    o = 576
    while o + 72 <= n:
        level = st.median(ys[o - window:o])
        off = [0.0] * period
        if use:
            res = {k: [] for k in range(period)}
            for t in range(o - lookback, o):
                c = st.median(ys[max(0, t - 6):min(o, t + 7)])
                res[t % period].append(ys[t] - c)
            off = [st.median(res[k]) for k in range(period)]
            m = st.median(off)
            off = [x - m for x in off]
        f = [level + off[t % period] for t in range(o, o + 72)]
        scale = cum[o - 1] / (o - 1)
        e = [abs(ys[o + i] - f[i]) for i in range(72)]
        s12.append(sum(e[:12]) / 12 / scale)
        s72.append(sum(e) / 72 / scale)
        o += 12
    return round(st.mean(s12), 3), round(st.mean(s72), 3)


for p in sys.argv[1:]:
    ys = load(p)
    print(
        p.split("/")[-1],
        "median36", run(ys, use=False),
        "parity/288", run(ys),
        "parity/72", run(ys, lookback=72),
    )
