"""The managers' prompts and guides are data (dialogs/data/manager.yaml), checked when loaded:
the shipped file is whole, and a broken one is refused with the file and the place named."""

from __future__ import annotations

import random

import pytest
import yaml

from dialogs import guidance, manager
from dialogs.guidance import GuidanceError


def _write(tmp_path, document) -> object:
    path = tmp_path / "manager.yaml"
    text = document if isinstance(document, str) else yaml.safe_dump(document)
    path.write_text(text, encoding="utf-8")
    return path


def _shipped_document() -> dict:
    return yaml.safe_load(guidance.SHIPPED.read_text(encoding="utf-8"))


def test_the_shipped_guidance_loads_and_feeds_the_guides_and_prompts(org):
    loaded = guidance.shipped()
    assert [g.id for g in loaded.guides] == [
        "conversation",
        "welcome_back",
        "action_plan",
        "team_stress",
    ]
    assert manager.find_guide("smart goals").id == "action_plan"
    prompts = manager.choose_prompts(frozenset({"demands_stand_out"}), org, random.Random(1))
    assert prompts.team[0] == loaded.prompts.risk_assessment
    assert set(prompts.one_to_one) <= set(loaded.prompts.one_to_one)


def test_a_missing_team_idea_is_refused_by_name(tmp_path):
    document = _shipped_document()
    del document["prompts"]["team_ideas"]["low_mood"]
    with pytest.raises(
        GuidanceError, match=r"manager\.yaml.*prompts: .*team_ideas needs an idea for low_mood"
    ):
        guidance.load(_write(tmp_path, document))


def test_an_unknown_key_and_an_empty_guide_are_refused_with_their_place(tmp_path):
    document = _shipped_document()
    document["messages"]["refusall"] = "typo"
    document["guides"][1]["sections"] = []
    with pytest.raises(GuidanceError) as refused:
        guidance.load(_write(tmp_path, document))
    message = str(refused.value)
    assert "messages.refusall: Extra inputs are not permitted" in message
    assert "guides.1.sections" in message


def test_two_guides_answering_to_one_name_are_refused(tmp_path):
    document = _shipped_document()
    document["guides"][1]["aliases"].append("plan")
    with pytest.raises(
        GuidanceError, match="'welcome_back' and 'action_plan' both answer to 'plan'"
    ):
        guidance.load(_write(tmp_path, document))


def test_a_file_that_is_not_yaml_is_refused(tmp_path):
    with pytest.raises(GuidanceError, match="cannot read the manager guidance"):
        guidance.load(_write(tmp_path, "prompts: [unclosed"))
