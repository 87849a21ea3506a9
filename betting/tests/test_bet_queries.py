"""What one bet costs the database: the statements of `POST /api/bets/`, counted.

The bet path's cost is mostly its statements (each one compiled by the ORM, sent, and for most
of them waited for under the match row lock). This count fails when it grows: whoever adds a
statement on purpose raises BET_STATEMENTS here and says why in the commit; whoever finds one
that need not be there lowers it. The benchmark (bench/bench_betpath.py) gives what they cost.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from betting.models import Bet
from betting.tests.factories import new_bet_key

pytestmark = pytest.mark.django_db

# A bet by an account without safer-gambling limits, signed in with a JWT:
#   the user (JWT authentication),
#   SAVEPOINT (the test's own transaction makes the bet's atomic block a savepoint; in
#   production it is BEGIN ... COMMIT),
#   the match row locked with its bet sequence taken (one UPDATE ... RETURNING),
#   its market row with the liability of the bets since the last recompute (maximum stake),
#   the wallet row locked with whether the account has a break or limits (safer gambling),
#   the bet, the wallet's balance, the ledger entry, the key's record, RELEASE SAVEPOINT.
# No look for the key's earlier record (the unique constraint finds replays), no DELETE of
# expired keys (the periodic purge does that, off the request path), and no read of a
# single's legs for the answer (it has none).
BET_STATEMENTS = 10


def test_a_bet_runs_a_fixed_number_of_statements(user, match) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    body = {"match": match.pk, "selection": "home", "stake": "2.00", "accept_odds_change": "any"}
    assert client.post("/api/bets/", body, format="json", **new_bet_key()).status_code == 201  # warm caches

    with CaptureQueriesContext(connection) as statements:
        reply = client.post("/api/bets/", body, format="json", **new_bet_key())

    assert reply.status_code == 201, reply.content
    assert Bet.objects.count() == 2
    listing = "\n".join(query["sql"][:120] for query in statements.captured_queries)
    assert len(statements.captured_queries) == BET_STATEMENTS, listing
    assert not any(query["sql"].startswith("DELETE") for query in statements.captured_queries), listing
