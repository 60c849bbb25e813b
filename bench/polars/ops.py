"""The polars side of the ops benchmark (bench/benches/ops.rs): one case per run,

    python ops.py CASE DATA_DIR

on the files bench/src/gen/ops.rs writes. The inputs of the group-by, join and sort
cases are read first, untimed; the CSV case times the read itself. Prints
`time SECONDS rows ROWS` and `rss MIB` (this process's peak resident set size), the
lines eau2-ops prints, so the benchmark reads both alike. polars uses every core.
"""

import resource
import sys
import time

import polars as pl


def read(path):
    return pl.read_csv(path)


def main():
    case, data = sys.argv[1], sys.argv[2]
    if case == "csv":
        start = time.perf_counter()
        out = read(f"{data}/mixed.csv")
    else:
        facts = read(f"{data}/facts.csv")
        dim = read(f"{data}/dim.csv") if case == "join" else None
        start = time.perf_counter()
        if case == "groupby":
            out = facts.group_by("k1").agg(pl.len().alias("count"), pl.col("v").sum().alias("sum"))
        elif case == "join":
            out = facts.join(dim, on="k2", how="inner")
        elif case == "count_distinct":
            out = facts.group_by("k1").agg(pl.col("k2").n_unique().alias("distinct"))
        elif case == "distinct":
            out = facts.select("k2").unique()
        elif case == "agg":
            out = facts.select(
                pl.len().alias("count"),
                pl.col("v").sum().alias("sum"),
                pl.col("v").mean().alias("mean"),
                pl.col("k2").min().alias("min"),
                pl.col("k2").max().alias("max"),
            )
        elif case == "sort":
            out = facts.sort("k2")
        else:
            sys.exit(f"unknown case {case!r}")
    took = time.perf_counter() - start
    print(f"time {took:.6f} rows {out.height}")
    # ru_maxrss is in KiB on Linux.
    print(f"rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}")


if __name__ == "__main__":
    main()
