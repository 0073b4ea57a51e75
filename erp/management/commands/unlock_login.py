from django.core.management.base import BaseCommand

from erp.login import unlock_account


class Command(BaseCommand):
    help = "Desbloquea una cuenta tras intentos fallidos de inicio de sesión (API y formularios)."

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="+", help="Usuario(s) a desbloquear.")

    def handle(self, *args, usernames, **options):
        for username in usernames:
            unlock_account(username)
            self.stdout.write(f"Cuenta desbloqueada: {username}")
