"""Where a user lands after logging in, by role: the cashier at the counter's invoice list, the
accountant in the admin, ops staff on the sync event viewer, the integrator in the API docs
(URLs by name, so the base app imports no upper app)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from .models import Role

# The first role a user holds decides: someone who also sells starts the day at the counter.
LANDING_BY_ROLE = [
    (Role.CASHIER, "sales:invoice-list"),
    (Role.ACCOUNTANT, "admin:index"),
    (Role.OPS, "sync:events"),
    (Role.INTEGRATOR, "api-docs"),
]


@login_required
def home(request):
    roles = set(request.user.memberships.values_list("role", flat=True))
    for role, url_name in LANDING_BY_ROLE:
        if role in roles:
            return redirect(url_name)
    if request.user.is_staff:
        return redirect("admin:index")
    return redirect("sales:invoice-list")
