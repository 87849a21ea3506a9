"""The OpenAPI schema generates with no warning and validates (what CI runs as a step, too)."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_spectacular_validates_the_schema_and_warns_of_nothing() -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=StringIO())
