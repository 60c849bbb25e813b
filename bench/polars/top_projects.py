"""The polars side of bench/top_projects.sh: the N projects with the most commits, as
COUNT PID NAME lines, like apps/top-projects.

    python top_projects.py DATA_DIR [N] [--csv]

polars has no SoR reader, so this is its fastest user-level way to read one: a lazy
scan_csv that splits each line at '>' (so fields are `<93172`, ` <"a b"`, and names may
hold spaces), strips the brackets and quotes and casts. With --csv it reads
commits.csv and projects.csv (a header line) with its own CSV reader and the types
given. The scan only parses the columns used; the whole query is one lazy plan. polars
uses every core.
"""

import sys

import polars as pl


def scan_sor(path, names):
    """A lazy frame of the SoR file `path`, its fields as text named `names`."""
    lf = pl.scan_csv(path, separator=">", has_header=False, quote_char=None,
                     new_columns=[*names, "_end"], schema_overrides={n: pl.String for n in names})
    return lf.select(pl.col(n).str.strip_chars(' <"') for n in names)


def main():
    csv = "--csv" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--csv"]
    d = args[0]
    top = int(args[1]) if len(args) > 1 else 10
    if csv:
        ids = {"pid": pl.Int64, "author": pl.Int64, "committer": pl.Int64}
        commits = pl.scan_csv(f"{d}/commits.csv", schema=ids).select("pid")
        projects = pl.scan_csv(f"{d}/projects.csv", schema={"pid": pl.Int64, "name": pl.String})
    else:
        commits = scan_sor(f"{d}/commits.ltgt", ["pid", "author", "committer"])
        commits = commits.select(pl.col("pid").cast(pl.Int64))
        projects = scan_sor(f"{d}/projects.ltgt", ["pid", "name"])
        projects = projects.with_columns(pl.col("pid").cast(pl.Int64))
    counts = commits.group_by("pid").len("count")
    named = counts.join(projects, on="pid", how="left")
    best = named.sort(["count", "pid"], descending=[True, False]).head(top).collect()
    for row in best.select("count", "pid", "name").iter_rows():
        print(*row)


if __name__ == "__main__":
    main()
