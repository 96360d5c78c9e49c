"""Named enums in the API schema for the reminders' choice fields.

drf-spectacular names an enum after its field (``status``, ``step``, ``reason``); several apps have
fields of those names with other choices, and the collision is resolved with a hash in the name
and a warning. A ``NamedChoiceField`` carries its enum's name, and its values appear once in the
schema as that component (``ReminderReasonEnum`` …), shared by every field that uses them."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers


class NamedChoiceField(serializers.ChoiceField):
    def __init__(self, choices, *, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(choices, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={
                "type": "string",
                "enum": list(field.choices),
                "description": "\n".join(f"* `{code}` - {label}" for code, label in field.choices.items()),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref
