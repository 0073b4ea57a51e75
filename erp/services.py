"""Writes of the base app and the one generic write used by simple catalogs."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .currencies import SEED_CURRENCIES
from .models import Currency, Membership, Role
from .roles import role_permissions


def save_catalog_row(*, instance, m2m: dict | None = None):
    """Validate and save a catalog row (model rules in ``clean``), with its many-to-many links."""
    with transaction.atomic():
        instance.full_clean()
        instance.save()
        for name, values in (m2m or {}).items():
            getattr(instance, name).set(values)
    return instance


def sync_role_groups() -> None:
    """Rebuild one Django group per role from the role table, for the admin's permission checks."""
    for role in Role:
        group, _ = Group.objects.get_or_create(name=str(role.label))
        wanted = role_permissions(role)
        perms = [
            p
            for p in Permission.objects.select_related("content_type")
            if f"{p.content_type.app_label}.{p.codename}" in wanted
        ]
        group.permissions.set(perms)


@transaction.atomic
def grant_membership(*, user, company, role: str) -> Membership:
    """Give ``user`` a role in ``company``; accountants also get into the admin."""
    membership, _ = Membership.objects.update_or_create(user=user, company=company, defaults={"role": role})
    refresh_user_groups(user=user)
    return membership


@transaction.atomic
def revoke_membership(*, membership: Membership) -> None:
    user = membership.user
    membership.delete()
    refresh_user_groups(user=user)


def refresh_user_groups(*, user) -> None:
    roles = set(user.memberships.values_list("role", flat=True))
    user.groups.set(Group.objects.filter(name__in=[str(Role(r).label) for r in roles]))
    staff = user.is_superuser or Role.ACCOUNTANT in roles
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


def ensure_currencies() -> None:
    """Create the seed currencies if missing (a flushed database, e.g. transactional tests)."""
    for code, name, decimals, national in SEED_CURRENCIES:
        Currency.objects.get_or_create(
            code=code, defaults={"name": name, "decimals": decimals, "is_national": national}
        )
