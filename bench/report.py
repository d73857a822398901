"""The table of targets from the last `bench.send_code` and `bench.profile` runs.

    .venv/bin/python -m bench.report

Reads bench/.results/*.json; each figure is the median of the rounds its script
ran (3 by default). Prints each target, the figure, met or missed, and each
profile URL's ratio to a bare one-query view served the same way in the same run.
"""

from __future__ import annotations

import math

from bench.common import load_results

ROWS: list[tuple[str, str, str, bool]] = []


def check(target: str, figure: float | None, bound: float, *, unit: str, at_least: bool) -> None:
    if figure is None or math.isnan(figure):
        ROWS.append((target, "not measured", "", False))
        return
    met = figure >= bound if at_least else figure <= bound
    if unit in {"req/s", "ms", "connections"}:
        shown = f"{figure:,.0f} {unit}"
    else:
        shown = f"{figure:.2f} {unit}"
    ROWS.append((target, shown.strip(), "met" if met else "MISSED", met))


def main() -> None:
    profile = load_results("profile")
    send = load_results("send_code")
    ratios: list[tuple[str, float, float]] = []
    if profile:
        figures = profile["models"].get("threaded") or next(iter(profile["models"].values()))
        bare = figures["bare view"]["rate"]
        api = figures["api profile"]["rate"]
        n = f"{profile['referrals']:,}"
        check(
            f"API profile, {n} referrals, c=32 >= 450 req/s", api, 450, unit="req/s", at_least=True
        )
        check("API profile >= 0.8x bare view", api / bare, 0.8, unit="x", at_least=True)
        check(
            "web profile >= 250 req/s",
            figures["web profile"]["rate"],
            250,
            unit="req/s",
            at_least=True,
        )
        check(
            "unchanged poll >= 1,000 req/s",
            figures["unchanged poll"]["rate"],
            1000,
            unit="req/s",
            at_least=True,
        )
        equal = all(len(set(v)) == 1 for v in profile["query_counts"].values())
        short = {"api profile": "API", "web profile": "web", "unchanged poll": "poll"}
        counts = ", ".join(
            f"{short.get(k, k)} {'/'.join(map(str, v))}" for k, v in profile["query_counts"].items()
        )
        ROWS.append(
            ("query counts equal at 0 / 10 / " + n, counts, "met" if equal else "MISSED", equal)
        )
        ratios = [(name, f["rate"], f["rate"] / bare) for name, f in figures.items()]
    else:
        ROWS.append(("profile targets", "no results: run python -m bench.profile", "", False))
    if send:
        bursts = send["bursts"]
        b300, b1000 = bursts.get("300"), bursts.get("1000")
        if b300:
            ROWS.append(
                (
                    "300 code requests: all answered",
                    f"{b300['answered']}/{b300['requests']}",
                    "met" if b300["answered"] == b300["requests"] else "MISSED",
                    b300["answered"] == b300["requests"],
                )
            )
            check("300: wall <= 2.8 s", b300["wall"], 2.8, unit="s", at_least=False)
            check("300: p99 <= 2.5 s", b300["p99"], 2.5, unit="s", at_least=False)
            check(
                "300: sign-in page p99 <= 150 ms",
                b300["page_p99_ms"],
                150,
                unit="ms",
                at_least=False,
            )
            check(
                "300: /healthz p99 <= 150 ms", b300["health_p99_ms"], 150, unit="ms", at_least=False
            )
        if b1000:
            ROWS.append(
                (
                    "1,000 code requests: all answered",
                    f"{b1000['answered']}/{b1000['requests']}",
                    "met" if b1000["answered"] == b1000["requests"] else "MISSED",
                    b1000["answered"] == b1000["requests"],
                )
            )
            check("1,000: wall <= 5 s", b1000["wall"], 5, unit="s", at_least=False)
        peak = max(b["peak_connections"] for b in bursts.values())
        # Each of the 2 workers may hold one probe connection beside its pool while
        # every pooled one is busy (core/db_engine): a fixed bound all the same.
        bound = send["pool_max_total"] + 2
        check(
            f"DB connections <= pool + 1 probe per worker ({bound})",
            peak,
            bound,
            unit="connections",
            at_least=False,
        )
    else:
        ROWS.append(("send_code targets", "no results: run python -m bench.send_code", "", False))

    activations = load_results("activations")
    if activations and "4" in activations["tree"]:
        tree, whole = activations["tree"]["4"], activations["global"]["4"]
        check("activations, 4 processes >= 600/s", tree, 600, unit="req/s", at_least=True)
        check(
            "activations, 4 processes >= 1.8x global lock",
            tree / whole,
            1.8,
            unit="x",
            at_least=True,
        )
    else:
        ROWS.append(
            ("activation targets", "no results: run python -m bench.activations", "", False)
        )

    rewards = load_results("rewards")
    if rewards:
        check(
            "activation with the rewards program: <= 1 ms more than without",
            rewards["difference_ms"],
            1.0,
            unit="ms more",
            at_least=False,
        )
    else:
        ROWS.append(("rewards target", "no results: run python -m bench.rewards", "", False))

    width = max(len(r[0]) for r in ROWS)
    fig = max(len(r[1]) for r in ROWS)
    print()
    print("Targets, medians of each script's rounds:")
    print(f"  {'target':<{width}}  {'figure':<{fig}}  result")
    for target, figure, result, _ in ROWS:
        print(f"  {target:<{width}}  {figure:<{fig}}  {result}")
    if ratios:
        print()
        print("Ratio to the bare one-query view (bench/urls.py), same server, same run:")
        for name, rate, ratio in ratios:
            print(f"  {name:<16} {rate:>7,.0f} req/s  {ratio:.2f}x")
    missed = [r[0] for r in ROWS if not r[3]]
    print()
    print(
        f"{len(ROWS) - len(missed)} of {len(ROWS)} targets met"
        + (": missed " + "; ".join(missed) if missed else ".")
    )


if __name__ == "__main__":
    main()
