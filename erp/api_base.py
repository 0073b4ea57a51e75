"""Base classes every app's API builds on: company scoping, role permissions, model validation.

A row of a company the user has no role in is invisible (404); a role without the permission
for an action gets 403; bad input gets 400 with the model's Spanish message and saves nothing.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import MethodNotAllowed, PermissionDenied

from .external import refuse_owned_changes
from .roles import companies_with_perm, has_company_perm
from .services import save_catalog_row

# The permission each standard action needs ("view", "add", "change" of the viewset's model).
# ``destroy`` is not here: a viewset that deletes declares who may (``action_permissions``).
STANDARD_ACTIONS = {
    "list": "view",
    "retrieve": "view",
    "metadata": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
}
SAFE_METHODS = ("get", "head", "options")


def model_perm(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def declared_permission(view_class, action: str | None, method: str) -> str | None:
    """What ``action`` answered to ``method`` needs: "view"/"add"/"change" of the model, or a full
    "app.perm_model". Fail closed: a write action nobody declared needs a permission no role has
    (``None``), so a new endpoint answers 403 until its viewset says who may use it.

    Order: ``action_permissions["name:method"]`` (one method of a multi-method action), then
    ``action_permissions["name"]``, the ledgers' ``change_actions``, the standard actions, and
    "view" for a read (GET, HEAD, OPTIONS)."""
    method = method.lower()
    declared = getattr(view_class, "action_permissions", {}) or {}
    perm = declared.get(f"{action}:{method}", declared.get(action))
    if perm is None and action in getattr(view_class, "change_actions", ()):
        perm = "change"
    if perm is None:
        perm = STANDARD_ACTIONS.get(action)
    if perm is None and method in SAFE_METHODS:
        perm = "view"
    return perm


class CompanyRolePermission(permissions.BasePermission):
    """The user's role must grant the action's permission in at least one company (then per row).

    Every HTTP method and every custom action maps to a permission (``declared_permission``)."""

    message = "Su rol no tiene permiso para esta acción."

    def _perm(self, request, view) -> str | None:
        perm = declared_permission(type(view), getattr(view, "action", None), request.method)
        if perm is None or "." in perm:
            return perm
        return model_perm(view.get_queryset().model, perm)

    def has_permission(self, request, view):
        if isinstance(view, viewsets.ViewSetMixin) and view.action is None:
            # A method this route does not take. Answer 405 here: DRF would otherwise call the
            # viewset's attribute of that name, and an action called "post" is one.
            raise MethodNotAllowed(request.method)
        perm = self._perm(request, view)
        if perm is None:
            return False
        return companies_with_perm(request.user, perm).exists()

    def has_object_permission(self, request, view, obj):
        perm = self._perm(request, view)
        if perm is None:
            return False
        return has_company_perm(request.user, obj.company_id, perm)


class CompanyScopedSerializer(serializers.ModelSerializer):
    """Validates through the model (``full_clean``) and saves through the catalog service.

    Related rows of other companies are not offered: they look like rows that do not exist.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:
            return
        for field in self.fields.values():
            related = getattr(field, "child_relation", field)
            queryset = getattr(related, "queryset", None)
            if queryset is None:
                continue
            model = queryset.model
            if model._meta.label_lower == "erp.company":
                related.queryset = companies_with_perm(request.user, model_perm(self.Meta.model, "view"))
            elif any(f.name == "company" for f in model._meta.fields):
                related.queryset = queryset.filter(
                    company__in=companies_with_perm(request.user, model_perm(model, "view"))
                )

    def get_validators(self):
        # Uniqueness and constraints are checked by the model's full_clean, in Spanish.
        return []

    def _split_m2m(self, attrs):
        m2m_names = {f.name for f in self.Meta.model._meta.many_to_many}
        m2m = {k: attrs.pop(k) for k in list(attrs) if k in m2m_names}
        return attrs, m2m

    def validate(self, attrs):
        attrs = super().validate(attrs)
        new_company = attrs.get("company")
        if self.instance is not None and new_company and new_company.pk != self.instance.company_id:
            raise serializers.ValidationError(
                {"company": "No se puede cambiar la empresa de un registro existente."}
            )
        refuse_owned_changes(self.instance, attrs)
        plain, _ = self._split_m2m(dict(attrs))
        instance = self._build(plain)
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs

    def _build(self, attrs):
        if self.instance is not None:
            instance = self.Meta.model.objects.get(pk=self.instance.pk)
        else:
            instance = self.Meta.model()
        for key, value in attrs.items():
            setattr(instance, key, value)
        return instance

    def create(self, validated_data):
        plain, m2m = self._split_m2m(validated_data)
        return save_catalog_row(instance=self._build(plain), m2m=m2m)

    def update(self, instance, validated_data):
        plain, m2m = self._split_m2m(validated_data)
        return save_catalog_row(instance=self._build(plain), m2m=m2m)


class CompanyScopedViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """List, retrieve, create and update rows of the user's companies. Catalog rows are not
    deleted through the API: they are deactivated, so documents that point at them stay whole."""

    permission_classes = [permissions.IsAuthenticated, CompanyRolePermission]

    def get_queryset(self):
        queryset = super().get_queryset()
        perm = model_perm(queryset.model, "view")
        return queryset.filter(company__in=companies_with_perm(self.request.user, perm))

    def perform_create(self, serializer):
        company = serializer.validated_data["company"]
        if not has_company_perm(self.request.user, company.pk, model_perm(serializer.Meta.model, "add")):
            raise PermissionDenied("Su rol no permite dar de alta registros en esta empresa.")
        serializer.save()
