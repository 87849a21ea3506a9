from django.apps import AppConfig


class SaferGamblingConfig(AppConfig):
    name = "safergambling"
    verbose_name = "Safer gambling"

    def ready(self) -> None:
        # Bet placement and deposits ask these checks through betting's hooks, not by importing
        # them: safer gambling reads betting's ledger and payments' deposits, so it stands above
        # both (docs/architecture.md), and an import back would be a circle.
        from betting.wallet_rules import WalletRules, wallet_rules_register
        from safergambling import services

        wallet_rules_register(
            WalletRules(
                bet_columns=services.bet_check_columns,
                bet_allowed_check=services.bet_allowed_check,
                deposit_allowed_check=services.deposit_allowed_check,
            )
        )
