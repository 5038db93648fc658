"""The one error a service raises for input it refuses, whatever the app: `FieldErrors`.

`errors` maps each refused field to its messages, the way DRF's serializers report theirs
(``{"field": ["message", ...]}``); nested input nests (``{"layers": {1: {"participants":
[...]}}}``). The API turns it into a 400 with exactly that body (core.api_errors, the DRF
exception handler); HTML views put the messages on their form's fields (`add_to_form`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping


class FieldErrors(ValueError):
    """Input refused; `errors` names each field at fault with a list of messages."""

    def __init__(self, errors: Mapping):
        # A message may be given alone ({"name": "Required."}); it is stored as a list.
        self.errors = _listed(errors)
        super().__init__(_flatten(self.errors))

    def flat(self) -> Iterator[tuple[str, str]]:
        """(field, its messages as one text) for each refused field, nested ones dotted
        (`layers.1.participants`)."""
        yield from _flat(self.errors)

    def add_to_form(self, form) -> None:
        """Each field's messages on the form's field of that name; the others (and nested
        ones) as errors of the whole form."""
        for field, text in self.flat():
            form.add_error(field if field in form.fields else None, text)


def _listed(errors: Mapping) -> dict:
    listed = {}
    for key, value in errors.items():
        if isinstance(value, Mapping):
            listed[key] = _listed(value)
        elif isinstance(value, str):
            listed[key] = [value]
        else:
            listed[key] = [str(message) for message in value]
    return listed


def _flat(errors: dict, prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flat(value, f"{name}.")
        else:
            yield name, " ".join(value)


def _flatten(errors: dict) -> str:
    return "; ".join(f"{field}: {text}" for field, text in _flat(errors))
