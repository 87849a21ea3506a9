import pytest

from payments.tests.doubles import PROVIDERS


@pytest.fixture(autouse=True)
def payment_providers(settings):
    """The built-in instant provider beside the test doubles of a real one."""
    settings.PAYMENT_PROVIDERS = PROVIDERS
    settings.PAYMENT_DEFAULT_PROVIDER = "instant"
    return PROVIDERS
