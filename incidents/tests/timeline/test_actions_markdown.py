"""Notes are Markdown, rendered for display and sanitised: no script survives."""

import pytest

from incidents.timeline.markdown import render


def test_it_renders_the_markdown_responders_write():
    html = render("Rolled back **v2.3**, see [the runbook](https://runbooks.example/checkout)")
    assert "<strong>v2.3</strong>" in html
    assert (
        '<a href="https://runbooks.example/checkout" rel="noopener noreferrer nofollow">'
        "the runbook</a>"
    ) in html


def test_it_keeps_code_and_tables():
    html = render("```\nkubectl rollout undo <deploy>\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<pre><code>kubectl rollout undo &lt;deploy&gt;" in html
    assert "<td>1</td>" in html


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("<script>alert('x')</script>", "alert("),
        ("<img src=x onerror=alert(1)>", "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ("<iframe src='https://evil.example'></iframe>", "iframe"),
        ('<p style="position:fixed">x</p>', "style"),
        ("<style>body{display:none}</style>", "display:none"),
        ('<div onclick="steal()">x</div>', "onclick"),
    ],
)
def test_it_removes_anything_that_could_run(text, forbidden):
    assert forbidden not in render(text)


def test_the_result_is_marked_safe_for_templates():
    assert hasattr(render("plain"), "__html__")
    assert render("") == ""
