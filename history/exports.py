"""CSV exports of the bettor's own bets and ledger, in full, streamed: the rows are read in
chunks from one cursor and written as they come, so an export of any length holds one chunk
in memory and starts arriving at once."""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from betting.models import Bet, LedgerEntry

CHUNK = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

BET_COLUMNS = [
    "id",
    "placed_at",
    "match",
    "home_team",
    "away_team",
    "kickoff",
    "market",
    "selection",
    "stake",
    "odds",
    "status",
    "payout",
    "settled_at",
]
LEDGER_COLUMNS = ["id", "created_at", "kind", "amount", "balance_after", "bet", "memo"]


def text_cell(value: str) -> str:
    """A free-text cell a spreadsheet will not run as a formula (CSV injection)."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def bet_rows(bets: QuerySet[Bet]) -> Iterator[list[Any]]:
    for bet in bets.iterator(chunk_size=CHUNK):
        yield [
            bet.pk,
            bet.created_at.isoformat(),
            bet.match_id or "",
            text_cell(bet.match.home_team) if bet.match else "",
            text_cell(bet.match.away_team) if bet.match else "",
            bet.match.kickoff.isoformat() if bet.match else "",
            bet.market or bet.kind,
            bet.selection or legs_cell(bet),
            f"{bet.stake:.2f}",
            f"{bet.odds:.2f}",
            bet.status,
            "" if bet.payout is None else f"{bet.payout:.2f}",
            "" if bet.settled_at is None else bet.settled_at.isoformat(),
        ]


def legs_cell(bet: Bet) -> str:
    """An accumulator's legs in one cell: `match:market:selection@odds:status`, `|` between legs."""
    return "|".join(
        f"{leg.match_id}:{leg.market}:{leg.selection}@{leg.odds:.2f}:{leg.status}" for leg in bet.legs.all()
    )


def ledger_rows(entries: QuerySet[LedgerEntry]) -> Iterator[list[Any]]:
    for entry in entries.iterator(chunk_size=CHUNK):
        yield [
            entry.pk,
            entry.created_at.isoformat(),
            entry.kind,
            f"{entry.amount:.2f}",
            f"{entry.balance_after:.2f}",
            entry.bet_id or "",
            text_cell(entry.memo),
        ]


class Echo:
    """A file-like object whose write returns what it was given: csv.writer then yields lines."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def csv_response(filename: str, header: list[str], rows: Iterable[list[Any]]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
