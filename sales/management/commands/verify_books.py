"""manage.py verify_books [--company RFC ...] [--pending-minutes N]: every invariant of the books,
per company; exits 1 when any breaks (for cron, CI and the test suite)."""

from django.core.management.base import BaseCommand, CommandError

from erp.models import Company
from sales.integrity import verify_books


class Command(BaseCommand):
    help = "Verifica la integridad de los libros de cada empresa; termina con error si algo no cuadra."

    def add_arguments(self, parser):
        parser.add_argument("--company", action="append", default=[], help="RFC de la empresa (repetible).")
        parser.add_argument(
            "--pending-minutes",
            type=int,
            default=15,
            help="Una factura agregada hace menos de estos minutos puede estar aún en la cola de sellado.",
        )

    def handle(self, *args, **options):
        companies = Company.objects.order_by("pk")
        if options["company"]:
            companies = companies.filter(rfc__in=[rfc.upper() for rfc in options["company"]])
        reports = verify_books(companies, pending_minutes=options["pending_minutes"])
        for report in reports:
            self.stdout.write(f"{report.company.legal_name} ({report.company.rfc})")
            for _code, label, breaks in report.rows():
                self.stdout.write(f"  [{'OK' if not breaks else 'ROTO'}] {label}")
                for line in breaks:
                    self.stdout.write(f"      - {line}")
        broken = [report.company.rfc for report in reports if not report.ok]
        if broken:
            raise CommandError(f"Integridad rota en: {', '.join(broken)}.", returncode=1)
        self.stdout.write(f"Libros íntegros en {len(reports)} empresa(s).")
