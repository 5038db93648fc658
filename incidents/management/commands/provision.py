"""Team configuration as code: `provision export` writes a document (docs/provisioning.md),
`provision apply FILE --plan|--apply` shows or makes the changes it asks for.
The command line acts for every team, with no actor (audited as the operator)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.provisioning import apply as provisioning_apply
from incidents.provisioning import document, export, importers
from incidents.provisioning.importers.http import ImportHttpError
from oncall.models import Team


class Command(BaseCommand):
    help = "Export or apply team configuration as a YAML document (docs/provisioning.md)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        out = sub.add_parser("export", help="write the configuration of teams as YAML")
        out.add_argument("--team", action="append", default=[], help="team slug (repeatable)")
        out.add_argument("-o", "--output", help="file to write (default: standard output)")
        into = sub.add_parser("apply", help="show (--plan) or make (--apply) a document's changes")
        into.add_argument("file", help="the YAML (or JSON) document; - reads standard input")
        mode = into.add_mutually_exclusive_group(required=True)
        mode.add_argument("--plan", action="store_true", help="print what would change")
        mode.add_argument("--apply", action="store_true", help="make the changes")
        into.add_argument(
            "--prune", action="store_true", help="delete what the file does not mention"
        )
        into.add_argument(
            "--invite", action="store_true", help="invite (by email) users nobody knows yet"
        )
        imp = sub.add_parser("import", help="read another on-call tool's API, write a document")
        imp.add_argument("--from", dest="vendor", required=True, choices=sorted(importers.VENDORS))
        imp.add_argument("--url", required=True, help="the tool's API base URL")
        imp.add_argument("--token", required=True, help="an API key of the tool (read access)")
        imp.add_argument("-o", "--output", help="file to write (default: standard output)")
        imp.add_argument("--report", help="file for the import report (default: standard error)")

    def handle(self, *args, subcommand, **options):
        if subcommand == "export":
            return self._export(options["team"], options["output"])
        if subcommand == "import":
            return self._import(options)
        return self._apply(options)

    def _import(self, options) -> None:
        try:
            found, report = importers.run(
                options["vendor"], url=options["url"], token=options["token"]
            )
        except ImportHttpError as exc:
            raise CommandError(f"import from {options['vendor']} failed: {exc}") from None
        text = document.dump_text(found)
        if options["output"]:
            Path(options["output"]).write_text(text)
        else:
            self.stdout.write(text, ending="")
        if options["report"]:
            Path(options["report"]).write_text(report.text())
        else:
            self.stderr.write(report.text(), ending="")

    def _export(self, slugs: list[str], output: str | None) -> None:
        teams = None
        if slugs:
            found = {team.slug: team for team in Team.objects.filter(slug__in=slugs)}
            missing = [slug for slug in slugs if slug not in found]
            if missing:
                raise CommandError(f"no team with slug {', '.join(map(repr, missing))}")
            teams = [found[slug] for slug in sorted(found)]
        text = document.dump_text(export.export(teams=teams))
        if output:
            Path(output).write_text(text)
        else:
            self.stdout.write(text, ending="")

    def _apply(self, options) -> None:
        path = options["file"]
        try:
            text = self.stdin_text() if path == "-" else Path(path).read_text()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}") from None
        try:
            desired = document.load(text)
            kwargs = {"actor": None, "prune": options["prune"], "invite": options["invite"]}
            if options["plan"]:
                found = provisioning_apply.check(desired, **kwargs)
            else:
                found = provisioning_apply.apply(desired, **kwargs)
        except document.DocumentError as exc:
            refused = "the document is refused; nothing was changed:\n"
            raise CommandError(refused + str(exc)) from None
        for line in found.lines(invite=options["invite"]):
            self.stdout.write(line)
        if options["apply"] and not found.empty:
            self.stdout.write("Applied.")

    def stdin_text(self) -> str:
        import sys

        return sys.stdin.read()
