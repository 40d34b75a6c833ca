from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.errors import MissingTemplateVariablesError, PromptTooLargeError, TemplateSyntaxError
from companion.steps.templating import placeholder_paths, render, render_all


def test_paths_walk_keys_and_list_indices() -> None:
    # Given variables from the execution input and an earlier step
    variables = {"input": {"topic": "Step Functions"}, "steps": {"outline": {"items": ["a", "b"]}}}
    # When a template refers to them by path
    text = render("About {{ input.topic }}: {{steps.outline.items.1}}", variables, where="t")
    # Then the values are inserted as they are
    assert text == "About Step Functions: b"


def test_non_strings_and_the_json_filter_insert_compact_json() -> None:
    variables = {"n": 3, "flag": True, "none": None, "obj": {"k": ["v"]}, "s": 'say "hi"'}
    text = render("{{ n }} {{ flag }} {{ none }} {{ obj }} {{ s | json }}", variables, where="t")
    assert text == '3 true null {"k":["v"]} "say \\"hi\\""'


def test_every_missing_name_is_listed_across_all_templates() -> None:
    # Given two templates each missing something
    sources = [("prompt.system", "{{ a }} {{ known }}"), ("prompt.messages[0].content", "{{ b.c }} {{ a }}")]
    # When rendered together
    with pytest.raises(MissingTemplateVariablesError) as caught:
        render_all(sources, {"known": 1})
    # Then one error names every missing path once, and where it looked
    assert caught.value.missing == ["a", "b.c"]
    assert "prompt.system" in str(caught.value)
    assert "prompt.messages[0].content" in str(caught.value)


@pytest.mark.parametrize(
    "template",
    [
        "{{ __import__('os').system('id') }}",
        "{{ x() }}",
        "{{ x['a'] }}",
        "{{ x | upper }}",
        "{{ 1 + 1 }}",
        "{{ }}",
        "{% for x in y %}{{ x }}{% endfor %}a {{ y",
        "unclosed {{ x",
    ],
)
def test_anything_but_a_plain_path_is_a_syntax_error(template: str) -> None:
    with pytest.raises(TemplateSyntaxError, match=r"^m\[0\]: "):
        render(template, {"x": "v", "y": "w"}, where="m[0]")


def test_attributes_are_never_read() -> None:
    # Given a string variable, whose Python object has attributes such as __class__
    # When a template asks for one
    # Then it is a missing variable, not the attribute's value
    with pytest.raises(MissingTemplateVariablesError, match=r"x\.__class__"):
        render("{{ x.__class__ }}", {"x": "value"}, where="t")


def test_substituted_values_are_not_rendered_again() -> None:
    # Given an earlier model answer that itself contains template syntax
    variables = {"answer": "{{ secret }} and {{ x() }}", "secret": "s3cr3t"}
    # When it is inserted
    # Then it stays literal: a model cannot make the template read other variables
    assert render("{{ answer }}", variables, where="t") == "{{ secret }} and {{ x() }}"


def test_literal_braces_can_be_written() -> None:
    assert render('{{ "{{" }}name{{ "}}" }}', {}, where="t") == "{{name}}"


def test_output_size_is_bounded() -> None:
    # Given a template that repeats a large variable many times
    template = "{{ big }}" * 100
    # When the rendered size passes the bound
    # Then rendering stops with a named error instead of exhausting memory
    with pytest.raises(PromptTooLargeError):
        render(template, {"big": "x" * 100_000}, where="t", max_chars=1_000_000)


@settings(deadline=None)
@given(template=st.text(max_size=200), variables=st.dictionaries(st.text(max_size=8), st.text(max_size=20)))
def test_rendering_arbitrary_text_raises_only_named_errors(template: str, variables: dict[str, str]) -> None:
    try:
        rendered = render(template, variables, where="t")
    except (TemplateSyntaxError, MissingTemplateVariablesError):
        return
    if "{{" not in template:
        assert rendered == template


def test_placeholder_paths_lists_each_path_once_without_filters_or_literal_braces() -> None:
    # Given a template with repeated paths, a json filter and the literal-brace placeholders
    template = '{{ input.topic }} {{ steps.a.json | json }} {{ "{{" }}x{{ "}}" }} {{input.topic}}'
    # When its placeholders are listed
    # Then each path appears once, in order
    assert placeholder_paths(template, where="t") == ["input.topic", "steps.a.json"]


@pytest.mark.parametrize("template", ["{{ x() }}", "a {{ y", "{{ }}"])
def test_placeholder_paths_refuses_what_render_refuses(template: str) -> None:
    # Given a template render() refuses
    with pytest.raises(TemplateSyntaxError) as rendered:
        render(template, {"x": 1, "y": 2}, where="m[0]")
    # When its placeholders are listed, then the same error is raised
    with pytest.raises(TemplateSyntaxError) as listed:
        placeholder_paths(template, where="m[0]")
    assert str(listed.value) == str(rendered.value)
