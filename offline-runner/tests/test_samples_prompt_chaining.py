"""Published Bedrock prompt-chaining workflows, rewritten as ASL fixtures, run offline against the Bedrock stand-in.

Each fixture's ``Comment`` names the sample it follows. The stand-in's answers quote the first words of the last user
turn, so "an answer was chained forward" is asserted on the *requests* the stand-in received.
"""

from __future__ import annotations

import json
from typing import Any

from sample_definitions import load_sample
from sfn_offline.bedrock_standin import BedrockStandIn
from sfn_offline.engine import ExecutionResult, run_definition

COHERE = "cohere.command-text-v14"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA = "us.amazon.nova-lite-v1:0"


def run(definition: dict[str, Any], execution_input: Any, bedrock: BedrockStandIn, **kwargs: Any) -> ExecutionResult:
    result = run_definition(definition, execution_input, bedrock=bedrock, time_scale=0, timeout=20, **kwargs)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    return result


def claude_prompt(request: dict[str, Any]) -> str:
    return str(request["messages"][-1]["content"][0]["text"])


def test_prompt_chaining_sample_folds_each_cohere_answer_into_the_next_prompt() -> None:
    # Given the Developer Guide's prompt-chaining sample on Cohere Command
    definition = load_sample("prompt_chaining_cohere.asl.json", CohereModelId=COHERE)
    bedrock = BedrockStandIn()
    prompts = {
        "prompt_one": "Write a 500 word article on the history of jazz",
        "prompt_two": "Summarize the article in three sentences",
        "prompt_three": "Translate the summary into French",
    }
    # When it runs
    result = run(definition, prompts, bedrock)
    # Then three Cohere calls ran in order, each prompt carrying the conversation so far
    assert [(call.api, call.target) for call in bedrock.calls] == [("invoke_model", COHERE)] * 3
    first, second, third = (call.request["prompt"] for call in bedrock.calls)
    result_one = result.output["result_one"]["result_one"]
    result_two = result.output["result_two"]["result_two"]
    result_three = result.output["result_three"]["result_three"]
    assert first == prompts["prompt_one"]
    assert second == f"{prompts['prompt_one']}\n{result_one}\n{prompts['prompt_two']}"
    assert (
        third
        == f"{prompts['prompt_one']}\n{result_one}\n{prompts['prompt_two']}\n{result_two}\n{prompts['prompt_three']}"
    )
    # ... and every ResultSelector produced the generation's text itself (a string, not a list)
    for text in (result_one, result_two, result_three):
        assert isinstance(text, str)
        assert text.startswith(" Simulated answer")
    assert len({result_one, result_two, result_three}) == 3
    assert result.output["convo_two"]["convo_two"].endswith(result_two)


def test_trip_planner_sample_fans_out_in_parallel_and_builds_the_itinerary_from_all_branches() -> None:
    # Given the Trip Planner sample: three Claude suggestions in a Parallel, then an itinerary, then a Lambda
    definition = load_sample(
        "trip_planner_parallel.asl.json",
        ClaudeModelId=CLAUDE,
        PdfCreatorFunction="arn:aws:lambda:us-east-1:123456789012:function:PdfCreator",
    )
    bedrock = BedrockStandIn()
    bedrock.throttle(1, state_name="Suggest Restaurants (Invoke Model)")
    uploaded: list[dict[str, Any]] = []

    def pdf_creator(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        uploaded.append(event)
        return {"location": event["location"], "itinerary_key": f"itineraries/{event['location']}.pdf"}

    # When it runs for Lisbon
    result = run(definition, {"location": "Lisbon"}, bedrock, functions={"PdfCreator": pdf_creator})
    # Then the three branches each asked Claude (the throttled one twice), the itinerary came last
    by_state: dict[str, list[Any]] = {}
    for call in bedrock.calls:
        by_state.setdefault(call.state_name, []).append(call)
    assert sorted(by_state) == [
        "Create an Itinerary (Invoke Model)",
        "Suggest Activities (Invoke Model)",
        "Suggest Hotels (Invoke Model)",
        "Suggest Restaurants (Invoke Model)",
    ]
    assert [call.attempt for call in by_state["Suggest Restaurants (Invoke Model)"]] == [0, 1]
    assert bedrock.calls[-1].state_name == "Create an Itinerary (Invoke Model)"
    assert all(call.target == CLAUDE for call in bedrock.calls)
    # ... each branch prompt was about Lisbon, and the itinerary prompt quoted all three suggestions
    suggestions = {}
    for state in ("Suggest Hotels", "Suggest Restaurants", "Suggest Activities"):
        call = by_state[f"{state} (Invoke Model)"][-1]
        assert "expert on travel to Lisbon" in claude_prompt(call.request)
        suggestions[state] = BedrockStandIn().invoke_model(CLAUDE, call.request, state_name="x", attempt=0)
    itinerary_prompt = claude_prompt(by_state["Create an Itinerary (Invoke Model)"][0].request)
    for state, answer in suggestions.items():
        assert f">\n{answer['content'][0]['text']}\n</" in itinerary_prompt, state
    # ... and the Lambda got the itinerary text, whose Payload is the execution output
    [event] = uploaded
    assert event["location"] == "Lisbon"
    assert isinstance(event["itinerary"], str)
    assert event["itinerary"].startswith("Simulated answer")
    assert result.output == {"location": "Lisbon", "itinerary_key": "itineraries/Lisbon.pdf"}


CHARACTERS = [
    {"name": "Mara", "description": "a lighthouse keeper who collects lost letters"},
    {"name": "Tobias", "description": "a retired cartographer mapping the fog"},
    {"name": "Ines", "description": "a ferry pilot who never misses a tide"},
]


def test_story_writer_sample_maps_over_the_characters_the_model_listed() -> None:
    # Given the Story Writer sample, with the character list answered by a scripted Claude reply (JSON text)
    definition = load_sample(
        "story_writer_map.asl.json",
        ClaudeModelId=CLAUDE,
        JsonParserFunction="JsonParser",
        MergeMapOutputFunction="MergeMapOutput",
    )
    bedrock = BedrockStandIn()
    listed = "Here are the characters:\n```json\n" + json.dumps(CHARACTERS) + "\n```"
    bedrock.script(
        "Generate Characters (Invoke Model)",
        [{"Return": {"content": [{"type": "text", "text": listed}], "stop_reason": "end_turn"}}],
        strict=True,
    )

    def json_parser(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        text = event["response_string"]
        return {"characters": json.loads(text[text.index("[") : text.rindex("]") + 1])}

    def merge_map_output(event: list[dict[str, Any]], _context: Any) -> dict[str, Any]:
        arcs = [item["output"]["response"] for item in event]
        return {
            "response": "\n".join(arcs),
            "conversation": event[-1]["output"]["conversation"] + "\n" + "\n".join(arcs),
        }

    # When it runs
    result = run(
        definition,
        {"story_description": "a harbour town where the fog keeps secrets"},
        bedrock,
        functions={"JsonParser": json_parser, "MergeMapOutput": merge_map_output},
    )
    # Then one call listed the characters, one call per character ran inside the Map, and the story came last
    states = [call.state_name for call in bedrock.calls]
    assert states[0] == "Generate Characters (Invoke Model)"
    assert states[1:4] == ["Generate Character Story Arc (Invoke Model)"] * 3
    assert states[4:] == ["Generate the Full Story (Invoke Model)"]
    arc_prompts = [claude_prompt(call.request) for call in bedrock.calls[1:4]]
    for character in CHARACTERS:
        [prompt] = [p for p in arc_prompts if f"to {character['name']}, who" in p]
        assert character["description"] in prompt
        assert listed in prompt  # the conversation so far was passed into every Map iteration
    assert [call.request["max_tokens"] for call in bedrock.calls] == [512, 1024, 1024, 1024, 2048]
    # ... the story prompt carried every arc, and the story is the final output
    story_prompt = claude_prompt(bedrock.calls[4].request)
    arcs = [BedrockStandIn().invoke_model(CLAUDE, c.request, state_name="x", attempt=0) for c in bedrock.calls[1:4]]
    for arc in arcs:
        assert arc["content"][0]["text"] in story_prompt
    assert story_prompt.endswith("Respond only with the story content.")
    assert set(result.output) == {"story"}
    assert isinstance(result.output["story"], str)
    assert result.output["story"].startswith("Simulated answer")


def test_blog_post_sample_through_converse_carries_the_conversation_forward() -> None:
    # Given the Blog Post sample, each of its five steps calling bedrockruntime:converse
    definition = load_sample("blog_post_converse.asl.json", NovaModelId=NOVA)
    bedrock = BedrockStandIn()
    # When it runs
    result = run(definition, {"novel": "Moby Dick"}, bedrock)
    # Then five Converse calls ran in order, each seeing every earlier prompt and answer
    assert [(call.api, call.target) for call in bedrock.calls] == [("converse", NOVA)] * 5
    assert [call.state_name for call in bedrock.calls] == [
        "Write a Summary (Converse)",
        "Describe the Plot (Converse)",
        "Analyze Key Themes (Converse)",
        "Analyze Writing Style (Converse)",
        "Write the Blog Post (Converse)",
    ]
    prompts = [call.request["Messages"][0]["Content"][0]["Text"] for call in bedrock.calls]
    answers = [
        BedrockStandIn().converse(call.request, state_name="x", attempt=0)["Output"]["Message"]["Content"][0]["Text"]
        for call in bedrock.calls
    ]
    assert prompts[0] == "Human: Write a 1-2 sentence summary for the book Moby Dick."
    for index in range(1, 5):
        assert prompts[index].startswith(f"{prompts[index - 1]}\n\nAssistant: {answers[index - 1]}\n\nHuman: ")
    assert all(call.request["InferenceConfig"] == {"MaxTokens": 250, "Temperature": 1} for call in bedrock.calls)
    # ... and the execution output is the last answer alone (OutputPath on a string)
    assert result.output == answers[-1]
