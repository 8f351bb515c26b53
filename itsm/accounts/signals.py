"""One place for what a password change means, whichever path set it (the preferences
page, the admin, ``manage.py changepassword``, a password reset): every one of them calls
``user.set_password`` and saves, and the save revokes the user's API tokens. Their other
sessions end by themselves: Django checks each session's hash of the password."""

from .services import revoke_api_tokens


def revoke_tokens_on_password_change(sender, instance, created, **kwargs):
    # ``_password`` holds the raw password between set_password() and the end of save();
    # Django's own rehash on sign-in (a new hasher or more iterations) clears it before
    # saving, so upgrading a hash is not a change of password and keeps the tokens.
    if not created and getattr(instance, "_password", None) is not None:
        revoke_api_tokens(instance)
