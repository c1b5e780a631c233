from django.contrib import admin

from .models import EstimateSource, KeyEvent
from .services import source_remove


@admin.register(EstimateSource)
class EstimateSourceAdmin(admin.ModelAdmin):
    """Read-only, and the key is simply not a field here: only its last four characters."""

    list_display = ["label", "vendor", "status", "key_hint", "is_sandbox", "account", "created_at"]
    list_filter = ["vendor", "status", "is_sandbox"]
    search_fields = ["label", "public_id", "account__name"]
    fields = [
        "public_id",
        "account",
        "vendor",
        "label",
        "key_hint",
        "status",
        "last_error",
        "is_sandbox",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # Removing a source (superusers only: staff see tenants read-only) is the product's
    # removal: the key goes at once, a key event is recorded, the owners are told.
    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def delete_model(self, request, obj):
        source_remove(source=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for source in queryset.select_related("account"):
            source_remove(source=source, user=request.user)


@admin.register(KeyEvent)
class KeyEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "source_label", "vendor", "key_hint", "actor", "account"]
    list_filter = ["kind", "vendor"]
    readonly_fields = [f.name for f in KeyEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
