from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from blog import services
from blog.models import Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin[Post]):
    """Writes go through the services, so a moderator's change reaches the live feed like any other."""

    list_display = ["title", "status", "author", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title"]
    raw_id_fields = ["author"]

    def get_readonly_fields(self, request: HttpRequest, obj: Post | None = None) -> Any:
        return ["author", "created_at", "updated_at"] if obj is not None else ["created_at", "updated_at"]

    def save_model(self, request: HttpRequest, obj: Post, form: ModelForm[Post], change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            saved = services.post_update(post=obj, **fields)
        else:
            saved = services.post_create(author=obj.author, **fields)
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at

    def delete_model(self, request: HttpRequest, obj: Post) -> None:
        services.post_delete(post=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        for post in queryset:
            services.post_delete(post=post)
