"""Forms of the escalation policy and contact method pages. They parse what a browser sends
into the plain values incidents.escalation.policies and .contacts take; the rules live there,
and a rule broken there comes back as an error on the field (or step row) it names."""

from __future__ import annotations

import re

from django import forms

from incidents.escalation import policy_input

_STEP_FIELD = re.compile(r"^steps\[(\d+)\](?:\.(\w+))?")


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=policy_input.MAX_NAME_LENGTH)
    repeat = forms.IntegerField(
        min_value=0,
        max_value=policy_input.MAX_REPEAT,
        initial=0,
        help_text="How many more times the whole chain runs after its last step (0: once).",
    )
    fallback_user = forms.ChoiceField(
        required=False,
        label="Fallback",
        help_text="Paged when a step reaches nobody (no one on call, no contact method).",
    )

    def __init__(self, *args, users: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fallback_user"].choices = [("", "— nobody —")] + [
            (u.get_username(), u.get_username()) for u in users
        ]


class StepForm(forms.Form):
    delay_seconds = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=policy_input.MAX_DELAY_SECONDS,
        label="Wait (seconds)",
        widget=forms.NumberInput(attrs={"placeholder": "0", "class": "delay"}),
    )
    targets = forms.MultipleChoiceField(
        required=False,
        label="Page",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args, target_choices: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["targets"].choices = target_choices


StepFormSet = forms.formset_factory(
    StepForm, extra=2, can_delete=True, max_num=policy_input.MAX_STEPS, validate_max=True
)


def target_choices(users: list, schedules: list) -> list:
    """Grouped choices: people by username ("user:alice"), schedules by id ("schedule:3")."""
    return [
        ("People", [(f"user:{u.get_username()}", u.get_username()) for u in users]),
        (
            "Schedules (whoever is on call)",
            [(f"schedule:{s.pk}", f"{s.name} (schedule)") for s in schedules],
        ),
    ]


def step_initial(policy) -> list[dict]:
    """The formset rows of an existing policy (prefetched by selectors_policies)."""
    return [
        {
            "delay_seconds": step.delay_seconds,
            "targets": [
                f"user:{t.user.get_username()}" if t.user_id else f"schedule:{t.schedule_id}"
                for t in step.targets.all()
            ],
        }
        for step in policy.steps.all()
    ]


def steps_from(formset) -> tuple[list[dict], list[int]]:
    """The steps as the service takes them, and for each the formset row it came from.
    Removed rows and rows left blank are skipped."""
    steps, rows = [], []
    for index, form in enumerate(formset.forms):
        data = getattr(form, "cleaned_data", None) or {}
        if not data or data.get("DELETE"):
            continue
        chosen = data.get("targets") or []
        if not chosen and data.get("delay_seconds") is None:
            continue
        targets = []
        for value in chosen:
            kind, _, ident = value.partition(":")
            targets.append({"user": ident} if kind == "user" else {"schedule": int(ident)})
        steps.append({"delay_seconds": data.get("delay_seconds") or 0, "targets": targets})
        rows.append(index)
    return steps, rows


def apply_errors(errors: dict[str, list[str]], *, form, formset, rows: list[int]) -> list[str]:
    """Put the service's errors (FieldErrors.errors) on the fields they name; returns those
    about the steps as a whole (shown above the rows)."""
    general = []
    for field, messages in errors.items():
        message = " ".join(messages)
        match = _STEP_FIELD.match(field)
        if match:
            row = formset.forms[rows[int(match.group(1))]]
            name = "delay_seconds" if match.group(2) == "delay_seconds" else "targets"
            row.add_error(name, message)
        elif field in form.fields:
            form.add_error(field, message)
        else:
            general.append(message if field in {"steps", "__all__"} else f"{field}: {message}")
    return general
