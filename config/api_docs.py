"""The interactive API docs, Swagger UI (/api/docs/) and ReDoc (/api/redoc/), from
drf-spectacular-sidecar's static files (SPECTACULAR_SETTINGS: "SIDECAR"), under the site's
Content-Security-Policy: nothing from another host, no inline script."""

import functools
from pathlib import Path
from typing import Any

import drf_spectacular_sidecar
from csp.decorators import csp_update
from django.http import HttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.request import Request

REDOC_BUNDLE = (
    Path(drf_spectacular_sidecar.__file__).parent / "static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
)
# ReDoc's side menu always shows Redocly's logo from their CDN: an empty source instead (the
# menu hides an image that fails), so the page asks nothing of another host.
REDOCLY_LOGO = b'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"'
# Both UIs draw their icons as `data:` SVGs in their CSS: allowed as images on their pages only
# (a data: image cannot run anything).
DOCS_UI_POLICY = {"img-src": ["data:"]}
# ReDoc also inserts two <style> elements, allowed on its page by their hashes: an empty one that
# styled-components fills through the CSSOM (insertRule, which the policy does not govern), and
# perfect-scrollbar's rules. No other inline style. A ReDoc upgrade that changes them shows up as
# a violation in tests/browser/test_content_security_policy.py, whose failure names the new hash.
REDOC_POLICY = {
    **DOCS_UI_POLICY,
    "style-src": [
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # the empty element
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",  # perfect-scrollbar's rules
    ],
}


@functools.cache
def redoc_bundle() -> bytes:
    """The sidecar's ReDoc bundle, without the logo from Redocly's CDN."""
    bundle = REDOC_BUNDLE.read_bytes()
    if REDOCLY_LOGO not in bundle:
        raise RuntimeError(f"{REDOC_BUNDLE} no longer loads Redocly's logo as expected: check config/api_docs.py")
    return bundle.replace(REDOCLY_LOGO, b'src:""')


@method_decorator(csp_update(DOCS_UI_POLICY), name="get")
class SwaggerDocsView(SpectacularSwaggerSplitView):
    """Swagger UI; its start-up script is a second request to this view (`?script`), not an
    inline script."""

    template_name = "api_docs/swagger_ui.html"


@method_decorator(csp_update(REDOC_POLICY), name="get")
class RedocDocsView(SpectacularRedocView):
    """ReDoc, with its bundle served by this view (`?bundle=<sidecar version>`), as loaded from
    the sidecar less Redocly's logo."""

    template_name = "api_docs/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if "bundle" in request.GET:
            response = HttpResponse(redoc_bundle(), content_type="application/javascript; charset=utf-8")
            response["Cache-Control"] = "public, max-age=86400"  # the URL carries the version
            return response
        return super().get(request, *args, **kwargs)

    @staticmethod
    def _redoc_standalone() -> str:
        return f"{reverse('api-redoc')}?bundle={drf_spectacular_sidecar.__version__}"
