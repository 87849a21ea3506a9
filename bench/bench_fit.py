"""The team model's fit: three seasons of one league, on one core, for every shipped league.

The fit is the one the refit task and the backtest run (`teammodel.forecast.league_fit`): the
matches of the three years before the 2025/26 season (about 1,140), time-weighted, with the
ratings' prior. Cold: from scratch, as the first fit of a league. Warm: from the ratings of a
week earlier, as every later refit starts. Prints the median and the worst of 15 runs of each,
in CPU seconds (a fit is single-threaded: BLAS is held to one thread).
"""

import statistics
import time
from collections.abc import Callable
from datetime import date
from functools import partial

from teammodel.forecast import DEFAULT, league_fit, window_data
from teammodel.results import ResultsTable, day_number, read_results_dir
from teammodel.services import SHIPPED_RESULTS

RUNS = 15
AS_OF = date(2025, 7, 1)


def cpu_seconds(call: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(RUNS):
        started = time.process_time()
        call()
        times.append(time.process_time() - started)
    return times


def main() -> None:
    columns = ("cold median", "cold max", "warm median", "warm max")
    print(f"{'league':16} {'matches':>7} {'teams':>5} " + " ".join(f"{c:>12}" for c in columns))
    for folder in sorted(p for p in SHIPPED_RESULTS.iterdir() if p.is_dir()):
        table = ResultsTable.from_results(read_results_dir(folder))
        as_of = day_number(AS_OF)
        season = int(table.season[table.day >= as_of][0])
        data = window_data(table, as_of_day=as_of, config=DEFAULT)
        assert data is not None
        week_before = league_fit(table, as_of_day=as_of - 7, season=season, config=DEFAULT)
        fit = partial(league_fit, table, as_of_day=as_of, season=season, config=DEFAULT)
        cold = cpu_seconds(fit)
        warm = cpu_seconds(partial(fit, previous=week_before))
        figures = (statistics.median(cold), max(cold), statistics.median(warm), max(warm))
        print(
            f"{folder.name:16} {len(data.home):>7} {len(data.teams):>5} "
            + " ".join(f"{seconds * 1000:>9.1f} ms" for seconds in figures),
            flush=True,
        )
    print("Target: under 2 s a fit.")
