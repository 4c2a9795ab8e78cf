"""What the admin's read-only pages share (imported by the apps' own ``admin.py``)."""

from django.contrib import admin


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Records of what happened (conversation logs, the assistant's actions and checks):
    written by the services only; staff read them, nobody adds, edits or deletes them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
