"""The polars side of bench/parquet.sh (eau2 side: apps/convert/examples/parquet_sums.rs,
eau2-convert and apps/top-projects --format parquet). polars uses every core.

    python parquet.py gen FILE ROWS        three Int32 columns a, b, c (the data set)
    python parquet.py sums FILE            ROWS, then NAME SUM per integer column
    python parquet.py convert IN OUT       read a Parquet file, write it again (snappy)
    python parquet.py to-ipc IN OUT        read a Parquet file, write it as Arrow IPC
                                           (uncompressed, as eau2-convert writes it)
    python parquet.py top DIR [N]          top-projects on DIR/commits.parquet, projects.parquet
"""

import sys

import polars as pl


def gen(path, rows):
    """Three integer columns: a sequence, a skewed key and a pseudo-random value."""
    i = pl.int_range(0, rows, eager=True, dtype=pl.Int64)
    df = pl.DataFrame({
        "a": i.cast(pl.Int32),
        "b": (i // 1000 % 5000).cast(pl.Int32),
        "c": ((i * 2654435761) % 1000003).cast(pl.Int32),
    })
    df.write_parquet(path, compression="snappy", row_group_size=1 << 20, statistics=True)


def sums(path):
    lf = pl.scan_ipc(path) if path.endswith(".arrow") else pl.scan_parquet(path)
    ints = [n for n, t in lf.collect_schema().items() if t.is_integer()]
    out = lf.select(pl.len().alias("rows"), *[pl.col(c).cast(pl.Int64).sum() for c in ints]).collect()
    print(out["rows"][0])
    for c in ints:
        print(c, out[c][0])


def convert(src, dst):
    pl.scan_parquet(src).sink_parquet(dst, compression="snappy", statistics=True)


def to_ipc(src, dst):
    pl.scan_parquet(src).sink_ipc(dst, compression=None)


def top(d, n):
    commits = pl.scan_parquet(f"{d}/commits.parquet").select("pid")
    projects = pl.scan_parquet(f"{d}/projects.parquet").select("pid", "name")
    counts = commits.group_by("pid").len("count")
    named = counts.join(projects, on="pid", how="left")
    best = named.sort(["count", "pid"], descending=[True, False]).head(n).collect()
    for row in best.select("count", "pid", "name").iter_rows():
        print(*row)


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "gen":
        gen(args[0], int(args[1]))
    elif cmd == "sums":
        sums(args[0])
    elif cmd == "convert":
        convert(args[0], args[1])
    elif cmd == "to-ipc":
        to_ipc(args[0], args[1])
    elif cmd == "top":
        top(args[0], int(args[1]) if len(args) > 1 else 10)
    else:
        sys.exit(f"unknown command {cmd}")
