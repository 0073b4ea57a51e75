"""Where a user lands after logging in: ops staff on the sync event viewer, others on the
cashier's invoice list (URLs by name, so the base app imports no upper app)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from .models import Role


@login_required
def home(request):
    roles = set(request.user.memberships.values_list("role", flat=True))
    if roles and roles <= {Role.OPS}:
        return redirect("sync:events")
    return redirect("sales:invoice-list")
