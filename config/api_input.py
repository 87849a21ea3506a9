"""Request bodies read with the JSON types the OpenAPI schema gives them.

DRF's fields coerce (`0` becomes `"0"`, `"7"` becomes `7`), so they accept bodies the schema calls
invalid, and a client written from the schema cannot tell which it will get. Input serializers
derive from `JSONInputSerializer`, which refuses a value of the wrong JSON type in words.
"""

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

# (field class, accepted Python types of the decoded JSON, how to say it). First match wins.
JSON_TYPES: list[tuple[type[serializers.Field], tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), "a boolean"),
    (serializers.CharField, (str,), "a string"),
    (serializers.ChoiceField, (str,), "a string"),
    (serializers.IntegerField, (int,), "an integer"),
    (serializers.DictField, (dict,), "an object"),
    (serializers.ListField, (list,), "an array"),
]


def json_type_error(field: serializers.Field, value: Any) -> str | None:
    for field_class, types, name in JSON_TYPES:
        if isinstance(field, field_class):
            # bool is an int in Python, never in JSON.
            if isinstance(value, types) and not (isinstance(value, bool) and bool not in types):
                return None
            return f"Must be {name}."
    return None


class JSONInputSerializer(serializers.Serializer[Any]):
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors = {
                name: [message]
                for name, field in self.fields.items()
                if not field.read_only and data.get(name) is not None
                if (message := json_type_error(field, data[name])) is not None
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
