"""A serializer field judged by the web form's own field: one rule, one message."""

from typing import Any

from django import forms
from rest_framework import serializers
from rest_framework.fields import empty


class WebFormField(serializers.CharField):
    """A string judged by the web form's own field and clean method: one rule, one message.

    The value the form cleans (an E.164 phone, a normalised invite code) is the
    value the API gets.
    """

    def __init__(self, *, form: type[forms.Form], **kwargs: Any) -> None:
        self.form = form
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        # A missing or blank value is the form's to judge too, so it gets the form's message.
        value = "" if data is empty or data is None else self.to_internal_value(data)
        form = self.form(data={self.field_name: value})
        if not form.is_valid():
            raise serializers.ValidationError(form.errors[self.field_name])
        return form.cleaned_data[self.field_name]
