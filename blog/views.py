"""The blog's pages."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@ensure_csrf_cookie  # a visitor signed in by session can write through the API with the CSRF header
def ws_demo(request: HttpRequest) -> HttpResponse:
    """The live blog demo: sign-in, posts and their live feed. Everything after the first paint
    is the page's script talking to the API and to /ws/blog/."""
    return render(request, "frontend/ws_demo.html", {"debug": settings.DEBUG})
