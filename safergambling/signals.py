"""What safer gambling tells the apps above it.

`break_started` (sender: `Restriction`; `user`, `restriction`, `reason`): a time-out or a
self-exclusion has just started, sent inside the transaction that records it. Accounts ends
every session and socket of the account on it (`accounts.signals`), before the transaction
commits, as a break must. A signal and not a call: accounts, which owns the sessions, stands
above safer gambling (its sign-up sets limits), so the call would point up and make a circle.
"""

from django.dispatch import Signal

break_started = Signal()
