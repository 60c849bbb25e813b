# Program 5 in polars: the Linus stages. Stage k tags every project in which a user tagged
# at stage k - 1 authored a commit (stage 0: the start user alone), then every user who
# authored a commit in a newly tagged project; each stage keeps only what is new (anti
# joins). Stage 0 starts from "Linus Torvalds". Prints STAGE PROJECTS USERS (totals so
# far) for stages 0 to 3. Usage: python linus.py [DATA_DIR];
# eau2 version: examples/programs/linus.rs.
import sys

import polars as pl


# A SoR file (no header, one <field> per column, strings in quotes) split at '>': fields
# come as `<12` and ` <"a b"`; stripping ' <"' is exact for strings that neither start
# nor end with a space, '<' or a quote (a regex would be exact and 5x slower).
def read(path, schema):
    lf = pl.scan_csv(path, separator=">", has_header=False, quote_char=None, infer_schema=False,
                     new_columns=[*schema, "_end"])
    return lf.select(pl.col(*schema).str.strip_chars(' <"')).cast(schema).collect()


d = sys.argv[1] if len(sys.argv) > 1 else "datasets/git-small"
commits = read(f"{d}/commits.ltgt", {"pid": pl.Int64, "author": pl.Int64, "committer": pl.Int64})
users = read(f"{d}/users.ltgt", {"uid": pl.Int64, "name": pl.String})
linus = users.filter(pl.col("name") == "Linus Torvalds")
users = new_users = linus.select(pl.col("uid").alias("author"))
projects = commits.select("pid").head(0)
for stage in range(4):
    tagged = commits.join(new_users, on="author", how="semi").select("pid")
    new_projects = tagged.join(projects, on="pid", how="anti").unique()
    projects = pl.concat([projects, new_projects])
    tagged = commits.join(new_projects, on="pid", how="semi").select("author")
    new_users = tagged.join(users, on="author", how="anti").unique()
    users = pl.concat([users, new_users])
    print(stage, projects.height, users.height)
