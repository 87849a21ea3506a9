"""The posts API is described in the OpenAPI schema, with its query parameters."""

from drf_spectacular.generators import SchemaGenerator

from blog.api.urls import urlpatterns


def test_posts_endpoints_are_in_the_openapi_schema():
    schema = SchemaGenerator(patterns=urlpatterns).get_schema(request=None, public=True)
    paths = schema["paths"]
    assert set(paths["/posts/"]) == {"get", "post"}
    assert set(paths["/posts/{id}/"]) == {"get", "put", "patch", "delete"}
    list_parameters = {p["name"] for p in paths["/posts/"]["get"]["parameters"]}
    assert {"page", "page_size", "search", "status"} <= list_parameters
    status_parameter = next(p for p in paths["/posts/"]["get"]["parameters"] if p["name"] == "status")
    assert status_parameter["schema"]["enum"] == ["draft", "published"]
    assert "401" in paths["/posts/{id}/"]["delete"]["responses"]
    post_schema = schema["components"]["schemas"]["PostOutput"]
    assert set(post_schema["properties"]) == {"id", "title", "body", "status", "author", "created_at", "updated_at"}
