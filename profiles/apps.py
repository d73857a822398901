from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProfilesConfig(AppConfig):
    name = "profiles"
    verbose_name = _("Members")

    def ready(self) -> None:
        from core.outage import RetryField, retry_fields
        from profiles import signals  # noqa: F401 - connects the receivers

        retry_fields["/profile/invite/"] = RetryField("invite_code", _("Friend's invite code"))
