from django.contrib import admin

from betting.admin import ReadOnlyAdmin
from payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    """Payments move money only through the services and the providers' callbacks."""

    list_display = ["reference", "user", "kind", "amount", "status", "provider", "provider_reference", "created_at"]
    list_filter = ["kind", "status", "provider"]
    search_fields = ["user__username", "reference", "provider_reference"]
