"""Walk-forward backtest of the team model: `manage.py odds_backtest RESULTS_DIR --since 2019-07-01 --out FILE`."""

import csv
import statistics
import time
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from teammodel.backtest import EXTRA_COLUMNS, PREDICTION_COLUMNS, BacktestResult, prediction_row, walk_forward
from teammodel.forecast import ANCHOR, DEFAULT
from teammodel.inplay import ANCHOR_PARAMS, DEFAULT_PARAMS
from teammodel.management.commands.import_results import league_folders
from teammodel.results import ResultsFormatError, ResultsTable, day_number, read_results_dir

# The project's model, or plain Dixon–Coles scaled to the second half as the issues' anchor ran it.
MODELS = {"model": (DEFAULT, DEFAULT_PARAMS), "anchor": (ANCHOR, ANCHOR_PARAMS)}
PRE_MATCH, HALF_TIME = "pre-match", "half-time"


class Command(BaseCommand):
    help = (
        "Walk forward from --since, a week at a time: fit the ratings on the three years before each "
        "week and predict its matches (before kick-off, or given the half-time score with --at half-time). "
        "Prints the 1X2 ranked probability score, the over/under 2.5 Brier score, the base rate and the fit "
        "times; writes every forecast to --out. RESULTS_DIR is a league's folder of season CSVs in the format "
        "of teammodel/data/football/, or a folder of such folders (each league in turn)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("results_dir", type=Path)
        parser.add_argument("--since", type=date.fromisoformat, default=date(2019, 7, 1), help="YYYY-MM-DD")
        parser.add_argument("--out", type=Path, help="CSV of the forecasts (margin-free probabilities)")
        parser.add_argument("--at", choices=[PRE_MATCH, HALF_TIME], default=PRE_MATCH)
        parser.add_argument(
            "--model",
            choices=sorted(MODELS),
            default="model",
            help="the project's model, or plain Dixon–Coles as the issues' anchor ran it (no prior, goals only; "
            "at half-time the rates times 0.555)",
        )
        parser.add_argument("--progress-every", type=int, default=52, help="a progress line per N weekly windows")

    def handle(self, *args: object, **options: object) -> None:
        results_dir = options["results_dir"]
        assert isinstance(results_dir, Path)
        if not results_dir.is_dir():
            raise CommandError(f"{results_dir} is not a folder")
        folders = league_folders(results_dir)
        if not folders:
            raise CommandError(f"{results_dir} holds no season CSV files")
        since = options["since"]
        assert isinstance(since, date)
        at_half_time = options["at"] == HALF_TIME
        config, in_play = MODELS[str(options["model"])]
        every = max(int(str(options["progress_every"])), 1)

        out_path = options.get("out")
        writer = None
        handle = None
        if isinstance(out_path, Path):
            handle = out_path.open("w", newline="", encoding="utf-8")
            writer = csv.writer(handle)
            writer.writerow([*PREDICTION_COLUMNS, *EXTRA_COLUMNS, *(["league"] if len(folders) > 1 else [])])
        try:
            for folder in folders:
                league = folder.name
                try:
                    table = ResultsTable.from_results(read_results_dir(folder))
                except ResultsFormatError as error:
                    raise CommandError(str(error)) from None

                def progress(window: int, windows: int, result: BacktestResult, league: str = league) -> None:
                    if window % every == 0 or window == windows:
                        self.stderr.write(
                            f"  {league}: window {window}/{windows}, {len(result.predictions)} matches predicted"
                        )

                started = time.perf_counter()
                result = walk_forward(
                    table,
                    since_day=day_number(since),
                    config=config,
                    at_half_time=at_half_time,
                    in_play=in_play,
                    progress=progress,
                )
                elapsed = time.perf_counter() - started
                if writer is not None:
                    for prediction in result.predictions:
                        writer.writerow([*prediction_row(prediction), *([league] if len(folders) > 1 else [])])
                self.stdout.write(self.summary(league, result, elapsed, at_half_time))
        finally:
            if handle is not None:
                handle.close()

    @staticmethod
    def summary(league: str, result: BacktestResult, elapsed: float, at_half_time: bool) -> str:
        if not result.predictions:
            return f"{league}: no matches to predict after --since"
        fits = result.fit_seconds
        when = "given the half-time score" if at_half_time else "before kick-off"
        lines = [
            f"{league}: {len(result.predictions)} matches {when}, {len(fits)} weekly fits, {elapsed:.1f} s",
            f"  1X2 RPS {result.rps:.4f}   base rate RPS {result.base_rate_rps:.4f}   "
            f"over/under 2.5 Brier {result.over_2_5_brier:.4f}",
            f"  fit time (CPU) median {statistics.median(fits) * 1000:.1f} ms, max {max(fits) * 1000:.1f} ms",
        ]
        return "\n".join(lines)
