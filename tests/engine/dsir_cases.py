"""DSIR configurations run on Ray (ray_script.py) and compared with the in-process path."""

CASES = {
    "gumbel": {"budget": 300},
    "topk": {"budget": 250, "sampling": "topk"},
    "tokens": {"budget": "150K-tokens"},
    "weights": {"mode": "weights", "clip": None},  # clip 20 is infeasible here (see the report to the lead)
}

#: Run on Ray too (each case is three Ray Data stages); all of CASES run on the local engine.
RAY_CASES = ("gumbel", "weights")


def target_texts():
    from datadiet._testing import bbc_news

    t = bbc_news()
    sport = [x for x, g in zip(t.column("text").to_pylist(), t.column("topic").to_pylist(), strict=True)
             if g == "sport"]
    return sport[:60]
