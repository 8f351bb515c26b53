from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .models import SavedView

#: Query parameters that belong to one page of a list, not to a view of it.
TRANSIENT = ("cursor", "view", "saved")


def save_view(owner, list_key: str, name: str, query: str) -> SavedView:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the view a name.")})
    if len(name) > 80:
        raise ValidationError({"name": _("At most 80 characters.")})
    params = QueryDict(query, mutable=True)
    for key in TRANSIENT:
        params.pop(key, None)
    view, _created = SavedView.objects.update_or_create(
        owner=owner, list_key=list_key, name=name, defaults={"query": params.urlencode()[:1000]}
    )
    return view


def delete_view(owner, view_id: int) -> None:
    deleted, _ = SavedView.objects.filter(owner=owner, pk=view_id).delete()
    if not deleted:
        raise SavedView.DoesNotExist


def views_of(owner, list_key: str):
    return SavedView.objects.filter(owner=owner, list_key=list_key)
