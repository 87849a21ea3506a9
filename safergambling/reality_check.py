"""Where a sign-in records when the bettor's session began, for the reality check
(`safergambling.api.views.session_started_at`) to count the time spent and the result from.

The names are the reader's, here; accounts' sign-in writes them (the JWT claim in
`accounts.api.serializers`, the page session's key in `accounts.signals`). They live in this app
because accounts stands above safer gambling (docs/architecture.md): the writer imports the
reader's names, never the other way round.
"""

SESSION_STARTED_CLAIM = "session_started"  # in every JWT of a pair, copied through refreshes
SESSION_STARTED_KEY = "session_started_at"  # in the page session
