"""The team model's walk-forward backtest on every shipped league, against the issues' anchor.

For each league, 2019/20 to 2025/26 (`--since 2019-07-01`), weekly refits on three years: the
project's model and plain Dixon–Coles as the anchor ran it, before kick-off and given the
half-time score. Prints the table of docs/team-model.md (and writes it to
docs/bench/team-model.md) beside the anchor's published figures.
"""

import statistics
import time
from datetime import date
from pathlib import Path

from teammodel.backtest import walk_forward
from teammodel.forecast import ANCHOR, DEFAULT
from teammodel.inplay import ANCHOR_PARAMS, DEFAULT_PARAMS
from teammodel.results import ResultsTable, day_number, read_results_dir
from teammodel.services import SHIPPED_RESULTS

SINCE = date(2019, 7, 1)
# The issues' anchor (penaltyblog 1.13.1 Dixon–Coles, ξ = 0.0018, weekly refits on three years):
# base rate RPS, 1X2 RPS, over/under 2.5 Brier, half-time 1X2 RPS.
PUBLISHED = {
    "premier-league": (0.2339, 0.2040, 0.2460, 0.1544),
    "la-liga": (0.2250, 0.1996, 0.2446, 0.1568),
    "serie-a": (0.2328, 0.1980, 0.2488, 0.1573),
    "ligue-1": (0.2329, 0.2093, 0.2496, 0.1580),
}
OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "bench" / "team-model.md"


def main() -> None:
    header = (
        "| league | matches | base rate RPS | anchor RPS | model RPS | anchor O/U 2.5 Brier | model Brier "
        "| anchor half-time RPS | model half-time RPS | fit CPU median / max | run |"
    )
    lines = [header, "|" + "---|" * 11]
    print(header, flush=True)
    for folder in sorted(p for p in SHIPPED_RESULTS.iterdir() if p.is_dir()):
        table = ResultsTable.from_results(read_results_dir(folder))
        since = day_number(SINCE)
        started = time.perf_counter()
        model = walk_forward(table, since_day=since, config=DEFAULT)
        elapsed = time.perf_counter() - started
        model_half = walk_forward(table, since_day=since, config=DEFAULT, at_half_time=True, in_play=DEFAULT_PARAMS)
        anchor = walk_forward(table, since_day=since, config=ANCHOR)
        anchor_half = walk_forward(table, since_day=since, config=ANCHOR, at_half_time=True, in_play=ANCHOR_PARAMS)
        published = PUBLISHED.get(folder.name)

        def versus(ours: float, index: int, published=published) -> str:
            return f"{ours:.4f}" + (f" ({published[index]:.4f})" if published else "")

        line = (
            f"| {folder.name} | {len(model.predictions)} | {model.base_rate_rps:.4f} "
            f"| {versus(anchor.rps, 1)} | **{model.rps:.4f}** | {versus(anchor.over_2_5_brier, 2)} "
            f"| **{model.over_2_5_brier:.4f}** | {versus(anchor_half.rps, 3)} | **{model_half.rps:.4f}** "
            f"| {statistics.median(model.fit_seconds) * 1000:.0f} / {max(model.fit_seconds) * 1000:.0f} ms "
            f"| {elapsed:.0f} s |"
        )
        lines.append(line)
        print(line, flush=True)
    lines.append("")
    lines.append(
        f"In brackets: the anchor's published figure. Matches from {SINCE.isoformat()}; fit times are the "
        "model's weekly refits (CPU time, warm-started), run the wall time of the model's pre-match backtest."
    )
    OUTPUT.write_text(
        "# Team model backtest (`make bench BENCH=backtest`)\n\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    print(f"Written to {OUTPUT}")
