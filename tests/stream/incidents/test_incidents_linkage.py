"""Camera priorities follow an incident: one claim per incident, raised with its colour, withdrawn at close,
and sent only when they change."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from stream.incidents.lifecycle import FINAL_STATES
from stream.incidents.linkage import PRIORITY, camera_priorities, linked_priorities
from stream.schemas import Colour, Hazard, IncidentChanged, IncidentState
from tests.helpers.incidents import T0

OPEN = IncidentChanged(source="amur", event_time=T0, incident_id="231102-fire-0123456789ab", hazard=Hazard.FIRE,
                       colour=Colour.ORANGE, state=IncidentState.RAISED, title="fire", cells=["231102001001001"],
                       cameras=["cam-1", "cam-3"], change="raised")


def revised(incident: IncidentChanged, **changes: object) -> IncidentChanged:
    return msgspec.structs.replace(incident, revision=incident.revision + 1, **changes)


def test_open_incident_raises_its_cameras_by_colour_under_one_stable_reason() -> None:
    raised = camera_priorities(OPEN, "amur")
    upgraded = camera_priorities(revised(OPEN, colour=Colour.RED, change="upgraded"), "amur", OPEN)
    assert [(p.camera_id, p.priority) for p in raised] == [("cam-1", 80.0), ("cam-3", 80.0)]
    assert [p.priority for p in upgraded] == [100.0, 100.0]
    assert {p.reason for p in raised} == {p.reason for p in upgraded} == {"incident 231102-fire-0123456789ab"}


def test_closing_withdraws_the_claim_and_changes_that_keep_the_priorities_say_nothing() -> None:
    closed = camera_priorities(revised(OPEN, state=IncidentState.RESOLVED, change="resolved"), "amur", OPEN)
    assert [p.priority for p in closed] == [0.0, 0.0]
    assert camera_priorities(revised(OPEN, state=IncidentState.ACKNOWLEDGED, change="acknowledged"), "amur",
                             OPEN) == []
    # an extension to more cells seen by the same cameras, re-sent again and again: nothing to send
    extended = revised(OPEN, cells=[*OPEN.cells, "231102001001002"], change="extended")
    assert camera_priorities(extended, "amur", OPEN) == []
    assert camera_priorities(revised(extended, change="extended"), "amur", extended) == []


def test_an_extension_sends_only_the_new_cameras_and_a_camera_that_left_is_withdrawn() -> None:
    grown = revised(OPEN, cameras=["cam-1", "cam-3", "cam-9"], change="extended")
    assert [(p.camera_id, p.priority) for p in camera_priorities(grown, "amur", OPEN)] == [("cam-9", 80.0)]
    shrunk = revised(grown, cameras=["cam-3", "cam-9"], change="extended")
    assert [(p.camera_id, p.priority) for p in camera_priorities(shrunk, "amur", grown)] == [("cam-1", 0.0)]


versions = st.lists(st.tuples(st.sampled_from(list(Colour)), st.sampled_from(list(IncidentState)),
                              st.sets(st.sampled_from([f"cam-{i}" for i in range(6)]))), min_size=1, max_size=30)


@given(versions)
def test_the_claims_sent_always_match_the_incident_and_every_message_changes_one(
        history: list[tuple[Colour, IncidentState, set[str]]]) -> None:
    """Whatever the sequence of versions, the cameras' claims (as a sampler applies them) end up exactly what
    the latest version asks for, and no message re-sends a claim the camera already holds."""
    held: dict[str, float] = {}  # camera -> its claim for this incident (absent: none)
    before: IncidentChanged | None = None
    for revision, (colour, state, cameras) in enumerate(history):
        incident = msgspec.structs.replace(OPEN, colour=colour, state=state, cameras=sorted(cameras),
                                           revision=revision, change="extended")
        for message in camera_priorities(incident, "amur", before):
            if before is not None:
                assert held.get(message.camera_id, 0.0) != message.priority, "a message that changes nothing"
            held[message.camera_id] = message.priority
        before = incident
        wanted = {c: 0.0 if state in FINAL_STATES else PRIORITY[colour] for c in cameras}
        assert {c: p for c, p in held.items() if p > 0} == {c: p for c, p in wanted.items() if p > 0}
        assert linked_priorities(incident) == wanted


def test_a_flood_growing_through_hundreds_of_revisions_sends_a_few_messages_per_camera() -> None:
    # issue 23: 725 revisions and 5,215 camera-priority messages for some 26 cameras in two minutes
    incident, before, sent = OPEN, None, 0
    for revision in range(725):
        colour = Colour.YELLOW if revision < 200 else Colour.ORANGE if revision < 500 else Colour.RED
        cameras = [f"cam-{i}" for i in range(min(26, 1 + revision // 20))]
        incident = msgspec.structs.replace(incident, colour=colour, cameras=cameras, revision=revision,
                                           change="extended")
        sent += len(camera_priorities(incident, "amur", before))
        before = incident
    # each camera once when it joins, and again at most at each of the two upgrades
    assert 26 < sent <= 3 * 26
