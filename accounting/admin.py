from django.contrib import admin

from erp.admin import CompanyScopedAdmin

from .models import Account, AccountingVariable


@admin.register(Account)
class AccountAdmin(CompanyScopedAdmin):
    list_display = ["code", "name", "nature", "sat_grouping_code", "postable", "active", "company"]
    list_filter = ["company", "nature", "postable", "active"]
    search_fields = ["code", "name", "sat_grouping_code"]
    autocomplete_fields = ["parent"]
    ordering = ["company", "code"]


@admin.register(AccountingVariable)
class AccountingVariableAdmin(CompanyScopedAdmin):
    list_display = ["name", "description", "account", "company"]
    list_filter = ["company"]
    search_fields = ["name", "account__code", "account__name"]
    autocomplete_fields = ["account"]
