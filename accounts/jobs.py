"""Background work of accounts, by its registered task name (implemented in `workers/tasks.py`)."""

FLUSH_EXPIRED_REFRESH_TOKENS = "accounts.flush_expired_refresh_tokens"
