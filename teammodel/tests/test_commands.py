"""The import_results and odds_backtest commands on a small made-up league."""

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from teammodel.models import Result
from teammodel.tests.leagues import league, write_league


@pytest.fixture
def no_refit(monkeypatch):
    monkeypatch.setattr("teammodel.services.jobs.ratings_refit_enqueue", lambda *, league=None: None)


@pytest.mark.django_db
def test_import_results_twice_adds_nothing_the_second_time(tmp_path, no_refit):
    folder = write_league(tmp_path / "made-up", league(seasons=2))
    out = StringIO()
    call_command("import_results", str(folder / "season-1617.csv"), stdout=out)
    assert "made-up: 56 results created, 0 updated, 0 unchanged (ratings refit queued)" in out.getvalue()
    out = StringIO()
    call_command("import_results", str(folder), stdout=out)
    assert "made-up: 56 results created, 0 updated, 56 unchanged" in out.getvalue()
    out = StringIO()
    call_command("import_results", str(folder), "--league", "renamed", stdout=out)
    assert Result.objects.filter(league="made-up").count() == 112
    assert Result.objects.filter(league="renamed").count() == 112


@pytest.mark.django_db
def test_import_results_of_a_folder_of_leagues(tmp_path, no_refit):
    write_league(tmp_path / "one", league(seasons=1, seed=1))
    write_league(tmp_path / "two", league(seasons=1, seed=2))
    out = StringIO()
    call_command("import_results", str(tmp_path), stdout=out)
    assert "one: 56 results created" in out.getvalue() and "two: 56 results created" in out.getvalue()
    with pytest.raises(CommandError, match="--league names one league"):
        call_command("import_results", str(tmp_path), "--league", "x")


@pytest.mark.django_db
def test_import_results_refuses_bad_files_and_changes_nothing(tmp_path, no_refit):
    folder = write_league(tmp_path / "made-up", league(seasons=1))
    bad = folder / "season-1718.csv"
    bad.write_text("Date,HomeTeam,AwayTeam,FTHG,FTAG\n2017-08-10,A,B,1,1\n2017-08-11,A,B,one,1\n")
    with pytest.raises(CommandError, match=r"season-1718\.csv line 3: FTHG"):
        call_command("import_results", str(folder))
    assert Result.objects.count() == 0
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_results", str(tmp_path / "missing.csv"))


def test_odds_backtest_writes_the_forecasts_and_prints_the_scores(tmp_path):
    folder = write_league(tmp_path / "made-up", league(seasons=3))
    out, err = StringIO(), StringIO()
    predictions = tmp_path / "predictions.csv"
    call_command(
        "odds_backtest", str(folder), "--since", "2018-07-01", "--out", str(predictions),
        "--progress-every", "2", stdout=out, stderr=err,
    )  # fmt: skip
    text = out.getvalue()
    assert "made-up: 56 matches before kick-off" in text
    assert "1X2 RPS 0." in text and "base rate RPS 0." in text and "over/under 2.5 Brier 0." in text
    assert "fit time (CPU) median" in text
    assert "window 2/" in err.getvalue()
    with predictions.open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:8] == ["date", "home", "away", "p_home", "p_draw", "p_away", "p_over_2_5", "p_btts"]
    assert len(rows) == 57
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["date"] >= "2018-07-01"
    assert float(first["p_home"]) + float(first["p_draw"]) + float(first["p_away"]) == pytest.approx(1, abs=1e-5)


def test_odds_backtest_at_half_time_and_on_a_folder_of_leagues(tmp_path):
    write_league(tmp_path / "one", league(seasons=3, seed=1))
    write_league(tmp_path / "two", league(seasons=3, seed=2))
    out = StringIO()
    predictions = tmp_path / "predictions.csv"
    call_command(
        "odds_backtest", str(tmp_path), "--since", "2018-07-01", "--at", "half-time", "--out", str(predictions),
        stdout=out, stderr=StringIO(),
    )  # fmt: skip
    assert "one: 56 matches given the half-time score" in out.getvalue()
    assert "two: 56 matches given the half-time score" in out.getvalue()
    with predictions.open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["league"] for row in rows} == {"one", "two"}
    assert all(row["half_time_home"] != "" for row in rows)


def test_odds_backtest_refuses_a_folder_without_results(tmp_path):
    with pytest.raises(CommandError, match="not a folder"):
        call_command("odds_backtest", str(tmp_path / "missing"))
    with pytest.raises(CommandError, match="no season CSV"):
        call_command("odds_backtest", str(tmp_path))
