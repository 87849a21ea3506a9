from django.contrib import admin

from blog.models import Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin[Post]):
    list_display = ["title", "status", "author", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title"]
    raw_id_fields = ["author"]
