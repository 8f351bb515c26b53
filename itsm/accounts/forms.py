from django import forms

from .models import User


class PreferencesForm(forms.ModelForm):
    #: Shown together under "Display": applied to every page as data-theme/data-density.
    display_fields = ("theme", "density", "date_format")

    class Meta:
        model = User
        fields = [
            "first_name",
            "last_name",
            "email",
            "phone",
            "time_zone",
            "theme",
            "density",
            "date_format",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.display_fields:
            self.fields[name].required = False  # left out: kept as it is (see _keep)

    def _keep(self, name):
        """A display setting left out of the post keeps its value; an empty one is refused."""
        if self.is_bound and name not in self.data:
            return getattr(self.instance, name)
        value = self.cleaned_data.get(name)
        if not value:
            raise forms.ValidationError("Choose one of the options.")
        return value

    def clean_theme(self):
        return self._keep("theme")

    def clean_density(self):
        return self._keep("density")

    def clean_date_format(self):
        return self._keep("date_format")
