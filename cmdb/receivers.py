"""Keep identification keys in step with the classes: when an administrator changes a
class's identification rules or makes an attribute unique (in the admin or the API), the
keys of every CI of that class and below are rebuilt (``clean`` refused clashes first)."""


def class_saved(sender, instance, created, **kwargs) -> None:
    if not created and getattr(instance, "_saved_rules", None) != instance.identification_rules:
        from .services import rebuild_keys

        rebuild_keys(instance)
    instance._saved_rules = instance.identification_rules


def attribute_saved(sender, instance, created, **kwargs) -> None:
    if instance.identity_changed:
        from .services import rebuild_keys

        rebuild_keys(instance.ci_class)
    instance._saved = (instance.key, instance.unique)


def attribute_deleted(sender, instance, **kwargs) -> None:
    if instance.unique:
        from .services import rebuild_keys

        rebuild_keys(instance.ci_class)
