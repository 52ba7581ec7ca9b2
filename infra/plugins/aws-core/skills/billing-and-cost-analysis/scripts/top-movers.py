#!/usr/bin/env python3
"""Compare AWS cost per service (or another dimension) between two periods and print the
biggest increases. Uses Cost Explorer (billed per API request).

Usage:
  top-movers.py 2024-04-01 2024-05-01 2024-05-01 2024-06-01 [--dimension SERVICE] [--metric UnblendedCost]
(periods are [start, end) pairs: baseline then current)
"""
import argparse
import boto3


def totals(ce, start, end, dimension, metric):
    out, token = {}, None
    while True:
        kwargs = dict(
            TimePeriod={"Start": start, "End": end},
            Granularity="MONTHLY",
            Metrics=[metric],
            GroupBy=[{"Type": "DIMENSION", "Key": dimension}],
            Filter={"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"]}}},
        )
        if token:
            kwargs["NextPageToken"] = token
        resp = ce.get_cost_and_usage(**kwargs)
        for period in resp["ResultsByTime"]:
            for group in period["Groups"]:
                key = group["Keys"][0]
                out[key] = out.get(key, 0.0) + float(group["Metrics"][metric]["Amount"])
        token = resp.get("NextPageToken")
        if not token:
            return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base_start"); p.add_argument("base_end")
    p.add_argument("cur_start"); p.add_argument("cur_end")
    p.add_argument("--dimension", default="SERVICE")
    p.add_argument("--metric", default="UnblendedCost")
    p.add_argument("--top", type=int, default=15)
    a = p.parse_args()

    ce = boto3.client("ce", region_name="us-east-1")
    base = totals(ce, a.base_start, a.base_end, a.dimension, a.metric)
    cur = totals(ce, a.cur_start, a.cur_end, a.dimension, a.metric)
    rows = [(k, base.get(k, 0.0), cur.get(k, 0.0)) for k in set(base) | set(cur)]
    rows.sort(key=lambda r: r[2] - r[1], reverse=True)

    print(f"{'':50} {'baseline':>12} {'current':>12} {'delta':>12}")
    for key, b, c in rows[: a.top]:
        print(f"{key[:50]:50} {b:12.2f} {c:12.2f} {c - b:+12.2f}")
    print(f"{'TOTAL':50} {sum(base.values()):12.2f} {sum(cur.values()):12.2f} "
          f"{sum(cur.values()) - sum(base.values()):+12.2f}")


if __name__ == "__main__":
    main()
