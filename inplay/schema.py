"""The feed token in the OpenAPI schema: its own security scheme, beside the JWT's."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class FeedTokenScheme(OpenApiAuthenticationExtension):
    target_class = "inplay.credentials.FeedTokenAuthentication"
    name = "feedToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A feed provider's token: `Feed <token>` (`manage.py feed_token <provider>` issues one).",
        }
