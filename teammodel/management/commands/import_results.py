"""Import results files into the team model: `manage.py import_results PATH [--league NAME]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from teammodel.results import ResultsFormatError
from teammodel.services import league_of_path, results_import, results_read


def league_folders(path: Path) -> list[Path]:
    """PATH itself (a season file, or a folder of them), or each league folder under it."""
    if path.is_file() or any(path.glob("*.csv")):
        return [path]
    return sorted(folder for folder in path.iterdir() if folder.is_dir() and any(folder.glob("*.csv")))


class Command(BaseCommand):
    help = (
        "Import match results in the shipped data's format (docs/team-model.md#the-data): a season CSV, "
        "a league's folder of them, or a folder of league folders. Idempotent: a result already stored "
        "is matched by date and teams, and updated only if it changed. Refits the league's ratings "
        "(a Celery task) when anything changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="a season CSV, a league folder, or a folder of league folders")
        parser.add_argument("--league", help="the league's name (default: the folder's name)")

    def handle(self, *args: object, **options: object) -> None:
        path = options["path"]
        assert isinstance(path, Path)
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        folders = league_folders(path)
        if not folders:
            raise CommandError(f"{path} holds no CSV files")
        league_option = options.get("league")
        if league_option and len(folders) > 1:
            raise CommandError("--league names one league; this path holds several")
        for folder in folders:
            league = str(league_option or league_of_path(folder))
            try:
                matches = results_read(folder)
            except ResultsFormatError as error:
                raise CommandError(str(error)) from None
            summary = results_import(league=league, matches=matches)
            self.stdout.write(
                f"{league}: {summary.created} results created, {summary.updated} updated, "
                f"{summary.unchanged} unchanged" + (" (ratings refit queued)" if summary.changed else "")
            )
