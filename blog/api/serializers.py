"""Input and output shapes of the blog API."""

from rest_framework import serializers

from blog.models import Post, PostStatus
from config.api_input import JSONInputSerializer


class PostInputSerializer(JSONInputSerializer):
    """What a writer sends. A new post is a draft unless it says otherwise; an update (PUT or
    PATCH) leaves the fields it does not send as they are, and PATCH may omit the title."""

    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    status = serializers.ChoiceField(choices=PostStatus.choices, required=False)


class PostOutputSerializer(serializers.ModelSerializer[Post]):
    # The author's id, not their e-mail: published posts are public.
    author = serializers.IntegerField(source="author_id", read_only=True)

    class Meta:
        model = Post
        fields = ["id", "title", "body", "status", "author", "created_at", "updated_at"]
        read_only_fields = fields
