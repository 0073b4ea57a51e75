"""API base for ledgers: rows written by services (create and actions), never edited in place.

Reading needs the model's view permission; creating, its add permission; the state actions
(audit, revert, cancel, post), its change permission — always in the row's company.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import MethodNotAllowed, PermissionDenied
from rest_framework.response import Response

from .api_base import CompanyRolePermission, model_perm
from .models import Company
from .roles import companies_with_perm, has_company_perm

# Kept for the viewsets that name it: every viewset now maps actions the same way.
ActionRolePermission = CompanyRolePermission


class LedgerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List, retrieve, create through ``perform_service`` and run state actions."""

    permission_classes = [permissions.IsAuthenticated, ActionRolePermission]
    change_actions: tuple[str, ...] = ("audit", "revert", "cancel")
    action_permissions: dict[str, str] = {}  # action name -> "app.perm_model", when not change
    input_serializer_class: type[serializers.Serializer] | None = None

    actions_with_body: tuple[str, ...] = ()  # change actions that document their own request body

    def __init_subclass__(cls, **kwargs):
        """Document the request body each ledger takes (issue 21: clients and fuzzers build bodies
        from the schema): ``create`` reads ``input_serializer_class`` and answers the row; the state
        actions take no body. A ledger without an input serializer is not created here."""
        super().__init_subclass__(**kwargs)
        overrides = {
            name: extend_schema(request=None)
            for name in cls.change_actions
            if hasattr(cls, name) and name not in cls.actions_with_body
        }
        if cls.input_serializer_class is not None:
            overrides["create"] = extend_schema(
                request=cls.input_serializer_class, responses={201: cls.serializer_class}
            )
        else:
            overrides["create"] = extend_schema(exclude=True)
        extend_schema_view(**overrides)(cls)

    def get_queryset(self):
        queryset = super().get_queryset()
        perm = model_perm(queryset.model, "view")
        return queryset.filter(company__in=companies_with_perm(self.request.user, perm))

    def _company_from(self, value, action: str) -> Company:
        """A company the user holds ``action`` on for this model (404 when it is not theirs)."""
        model = self.get_queryset().model
        company = get_object_or_404(
            companies_with_perm(self.request.user, model_perm(model, "view")), pk=value
        )
        if not has_company_perm(self.request.user, company.pk, model_perm(model, action)):
            raise PermissionDenied("Su rol no permite esta acción en esta empresa.")
        return company

    def company_param(self) -> Company:
        value = self.request.query_params.get("company")
        if not value or not str(value).isdigit():
            raise serializers.ValidationError({"company": "Indique la empresa."})
        return self._company_from(value, "view")

    def create(self, request, *args, **kwargs):
        if self.input_serializer_class is None:  # rows written only by their services (advances…)
            raise MethodNotAllowed(request.method)
        serializer = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        company = self._company_from(data.pop("company").pk, "add")
        instance = self.perform_service(company=company, data=data, user=request.user)
        return Response(self.get_serializer(self._reload(instance)).data, status=201)

    def perform_service(self, *, company, data: dict, user):  # pragma: no cover - each viewset defines it
        raise NotImplementedError

    def _reload(self, instance):
        return self.get_queryset().get(pk=instance.pk)

    def run_action(self, service, argument: str, **kwargs):
        """Lock-free entry point for a state action: the service locks and checks the row."""
        instance = self.get_object()
        service(**{argument: instance}, user=self.request.user, **kwargs)
        return Response(self.get_serializer(self._reload(instance)).data)
