"""Issue a feed provider's token (creating the provider if it is new): printed once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from inplay.credentials import feed_provider_token_issue


class Command(BaseCommand):
    help = "Issue a new token for a feed provider (any earlier token of it stops working) and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", help="The provider's name (a slug), e.g. sportradar.")

    def handle(self, *args: Any, **options: Any) -> None:
        token = feed_provider_token_issue(name=options["provider"])
        self.stdout.write(token)
