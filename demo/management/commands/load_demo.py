from django.core.management.base import BaseCommand

from demo.services import (
    load_customer_file_demo,
    load_demo,
    load_documents_demo,
    load_sync_demo,
    load_wopen_demo,
)


class Command(BaseCommand):
    help = "Carga la empresa de demostración (ESCUELA KEMPER URGATE). Se puede correr varias veces."

    def handle(self, *args, **options):
        result = load_demo(activity=True)  # with opening stock and a few invoices
        load_documents_demo(result.company)  # a rebate and a payment with its complement
        load_sync_demo(result.company)  # issue 12: the QR connection and its first runs
        load_wopen_demo(result.company)  # issue 15: the Wopen connection, an order and an invoice
        load_customer_file_demo(result.company)  # issue 13: a customer file connection and a preview
        self.stdout.write(self.style.SUCCESS(f"Empresa de demostración lista: {result.company}"))
        self.stdout.write("Usuarios (usuario / contraseña / rol):")
        for username, password, role in result.credentials:
            self.stdout.write(f"  {username} / {password} / {role}")
