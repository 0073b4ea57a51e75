"""What each role may do, per model: v(iew), a(dd), c(hange).

A user's role is per company (Membership), so every check names the company. Later apps add
their models here; the Django groups the admin uses are rebuilt from this table on migrate.
"""

from django.db.models import Q, QuerySet

from .models import Company, Membership, Role

CATALOGS = [
    "erp.currency", "erp.exchangerate",
    "accounting.account", "accounting.accountingvariable",
    "cashbank.cashbankaccount",
    "inventory.productline", "inventory.product", "inventory.warehouse",
    "sales.salesperson", "sales.salesentity", "sales.customer",
]  # fmt: skip
DOCUMENTS = ["sales.salesdocument", "sales.externalcfdi"]

# Ledgers (issue 3): rows written by services; "c" on them allows the state actions
# (audit, revert, cancel). Records and history rows ride along with their header.
LEDGERS = [
    "accounting.journalentry", "accounting.journalline", "accounting.paymentrecord",
    "accounting.closedperiod",
    "cashbank.cashmovement",
    "inventory.stockmovement", "inventory.stockmovementline", "inventory.stockmovementevent",
    "inventory.stocklevel",
    "sales.receivable", "sales.receivablerecord",
]  # fmt: skip
LEDGER_VIEW = {label: "v" for label in LEDGERS}

ROLE_TABLE: dict[str, dict[str, str]] = {
    Role.ACCOUNTANT: {"erp.company": "vc", **{label: "vac" for label in CATALOGS + DOCUMENTS + LEDGERS}},
    Role.CASHIER: {
        "erp.company": "v", "erp.currency": "v", "erp.exchangerate": "v",
        "cashbank.cashbankaccount": "v",
        "inventory.productline": "v", "inventory.product": "v", "inventory.warehouse": "v",
        "sales.salesperson": "v", "sales.salesentity": "v", "sales.customer": "vac",
        "sales.salesdocument": "vac", "sales.externalcfdi": "va",
        "cashbank.cashmovement": "va",
        "inventory.stockmovement": "v", "inventory.stockmovementline": "v",
        "inventory.stockmovementevent": "v", "inventory.stocklevel": "v",
        "sales.receivable": "v", "sales.receivablerecord": "va",
    },
    Role.INTEGRATOR: {
        "erp.company": "v", "erp.currency": "v", "erp.exchangerate": "vac",
        "accounting.account": "v", "accounting.accountingvariable": "v",
        "cashbank.cashbankaccount": "v",
        "inventory.productline": "vac", "inventory.product": "vac", "inventory.warehouse": "v",
        "sales.salesperson": "v", "sales.salesentity": "v", "sales.customer": "vac",
        "sales.salesdocument": "vac", "sales.externalcfdi": "va",
        **LEDGER_VIEW,
        "accounting.closedperiod": "", "cashbank.cashmovement": "va", "inventory.stockmovement": "va",
        "sales.receivable": "va", "sales.receivablerecord": "va",
    },
    Role.OPS: {
        "erp.company": "v", "erp.currency": "v",
        "inventory.productline": "v", "inventory.product": "v", "inventory.warehouse": "v",
        "sales.salesentity": "v", "sales.customer": "v", "sales.salesdocument": "v",
        "inventory.stockmovement": "v", "inventory.stocklevel": "v",
    },
}  # fmt: skip

# --- cfdi (issue 5): CSDs are uploaded by accountants; stored CFDIs are written only by services.
ROLE_TABLE[Role.ACCOUNTANT].update({"cfdi.csd": "va", "cfdi.cfdidocument": "v"})
ROLE_TABLE[Role.CASHIER].update({"cfdi.cfdidocument": "v"})
ROLE_TABLE[Role.INTEGRATOR].update({"cfdi.csd": "v", "cfdi.cfdidocument": "v"})
ROLE_TABLE[Role.OPS].update({"cfdi.cfdidocument": "v"})
# --- cfdi delivery (issue 6): sending and cancelling a CFDI is "change"; PAC accounts and the
# printing settings are the accountant's.
ROLE_TABLE[Role.ACCOUNTANT].update(
    {"cfdi.cfdidocument": "vc", "cfdi.pacaccount": "vac", "cfdi.cfdisettings": "vac"}
)
ROLE_TABLE[Role.CASHIER].update({"cfdi.cfdidocument": "vc"})
ROLE_TABLE[Role.INTEGRATOR].update({"cfdi.cfdidocument": "vc", "cfdi.pacaccount": "v"})
# --- end cfdi ---
# --- invoices built from an XML (issue 18): the template and the learned product associations.
_XML_IMPORT = {"sales.xmlinvoice": "vac", "sales.xmlinvoiceline": "vac", "sales.productassociation": "vac"}
ROLE_TABLE[Role.ACCOUNTANT].update(_XML_IMPORT)
ROLE_TABLE[Role.CASHIER].update(_XML_IMPORT)
ROLE_TABLE[Role.INTEGRATOR].update(_XML_IMPORT)
ROLE_TABLE[Role.OPS].update({"sales.xmlinvoice": "v", "sales.productassociation": "v"})
# --- end issue 18 ---
# --- sync (issue 12): "r" (run) is running a connection now and enabling/disabling it;
# configuring it (options, period, credentials) is "c". Runs and events are written by the engine.
ROLE_TABLE[Role.ACCOUNTANT].update({"sync.connection": "vacr", "sync.run": "v", "sync.event": "v"})
ROLE_TABLE[Role.INTEGRATOR].update({"sync.connection": "vacr", "sync.run": "v", "sync.event": "v"})
ROLE_TABLE[Role.OPS].update({"sync.connection": "vr", "sync.run": "v", "sync.event": "v"})
# issue 15: the external keys of the documents Wopen sent (written by the connector only).
for _role in (Role.ACCOUNTANT, Role.INTEGRATOR, Role.OPS):
    ROLE_TABLE[_role].update({"sync.wopendocument": "v"})
# Customer file imports (issue 13): "a" previews a file, "c" applies a preview.
ROLE_TABLE[Role.ACCOUNTANT].update({"sync.customerimport": "vac", "sync.customerimportrow": "v"})
ROLE_TABLE[Role.INTEGRATOR].update({"sync.customerimport": "vac", "sync.customerimportrow": "v"})
ROLE_TABLE[Role.OPS].update({"sync.customerimport": "v", "sync.customerimportrow": "v"})
# --- end sync ---
# --- sales payments (issue 17): cobros with their payment complement; header + applications.
ROLE_TABLE[Role.ACCOUNTANT].update({"sales.customerpayment": "vac", "sales.paymentapplication": "v"})
ROLE_TABLE[Role.CASHIER].update({"sales.customerpayment": "vac", "sales.paymentapplication": "v"})
ROLE_TABLE[Role.INTEGRATOR].update({"sales.customerpayment": "v", "sales.paymentapplication": "v"})
# --- end sales payments ---
# --- global invoice of counter sales (issue 17): header + its tickets.
ROLE_TABLE[Role.ACCOUNTANT].update({"sales.globalinvoice": "vac", "sales.globalinvoiceticket": "v"})
ROLE_TABLE[Role.CASHIER].update({"sales.globalinvoice": "vac", "sales.globalinvoiceticket": "v"})
ROLE_TABLE[Role.INTEGRATOR].update({"sales.globalinvoice": "v", "sales.globalinvoiceticket": "v"})
# --- end global invoice ---
# --- customer advances (issue 17): the unapplied part of a payment, applied later to invoices.
ROLE_TABLE[Role.ACCOUNTANT].update({"sales.customeradvance": "vac", "sales.advanceapplication": "v"})
ROLE_TABLE[Role.CASHIER].update({"sales.customeradvance": "vc", "sales.advanceapplication": "v"})
ROLE_TABLE[Role.INTEGRATOR].update({"sales.customeradvance": "v", "sales.advanceapplication": "v"})
# --- end customer advances ---

# --- returns and rebates (issue 16): credit notes are sales documents; ops only read them.
for _role, _actions in (
    (Role.ACCOUNTANT, "vac"),
    (Role.CASHIER, "vac"),
    (Role.INTEGRATOR, "vac"),
    (Role.OPS, "v"),
):
    ROLE_TABLE[_role]["sales.creditnote"] = _actions
    ROLE_TABLE[_role]["sales.creditnoteline"] = "v"
# --- end returns ---

# --- hardening (issue 10): cancelling a posted invoice, credit note or payment (and its CFDI with
# SAT) is the accountant's; a company lets its cashiers do it with ``cashiers_cancel_invoices``.
CANCEL_POSTED = "sales.cancel_salesdocument"
ROLE_TABLE[Role.ACCOUNTANT]["sales.salesdocument"] += "x"
# Permissions a role gains only in the companies that switch a flag on: perm -> [(role, field)].
COMPANY_GRANTS: dict[str, list[tuple[str, str]]] = {
    CANCEL_POSTED: [(Role.CASHIER, "cashiers_cancel_invoices")],
}
# --- end hardening ---

_ACTIONS = {"v": "view", "a": "add", "c": "change", "r": "run", "x": "cancel"}


def role_permissions(role: str) -> set[str]:
    """Django permission names ("app.action_model") granted to a role."""
    perms = set()
    for label, actions in ROLE_TABLE[role].items():
        app_label, model = label.split(".")
        perms.update(f"{app_label}.{_ACTIONS[a]}_{model}" for a in actions)
    return perms


_PERMS_BY_ROLE = {role: role_permissions(role) for role in ROLE_TABLE}


def roles_with_perm(perm: str) -> list[str]:
    return [role for role, perms in _PERMS_BY_ROLE.items() if perm in perms]


def companies_with_perm(user, perm: str) -> QuerySet:
    """Companies in which ``user`` holds ``perm`` through their role."""
    if not user.is_authenticated:
        return Company.objects.none()
    if user.is_superuser:
        return Company.objects.all()
    return Company.objects.filter(_company_grant(perm, "memberships__", "", user=user))


def _company_grant(perm: str, membership: str, company: str, **where) -> Q:
    """The roles that hold ``perm``, or hold it because the company switched a flag on."""
    granted = Q(**{f"{membership}role__in": roles_with_perm(perm)})
    for role, flag in COMPANY_GRANTS.get(perm, ()):
        granted |= Q(**{f"{membership}role": role, f"{company}{flag}": True})
    return Q(**{f"{membership}{k}": v for k, v in where.items()}) & granted


def has_company_perm(user, company_id: int, perm: str) -> bool:
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        _company_grant(perm, "", "company__", user=user, company_id=company_id)
    ).exists()
