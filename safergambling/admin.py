from django.contrib import admin

from betting.admin import ReadOnlyAdmin
from safergambling.models import AuditEntry, Limit, Restriction


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Every change of a limit or of an account's status: read-only, never edited."""

    list_display = ["created_at", "user", "actor", "action", "kind", "period", "old_value", "new_value", "effective_at"]
    list_filter = ["action", "kind"]
    search_fields = ["user__username"]


@admin.register(Limit)
class LimitAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "period", "amount", "pending_amount", "pending_from", "updated_at"]
    list_filter = ["kind", "period"]
    search_fields = ["user__username"]


@admin.register(Restriction)
class RestrictionAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "starts_at", "ends_at", "created_at"]
    list_filter = ["kind"]
    search_fields = ["user__username"]
