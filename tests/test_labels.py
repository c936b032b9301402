"""Labels are mapped by name: order does not matter, extra types become O (counted), missing stay misses."""

from __future__ import annotations

import pytest

from nerperf.data.labels import LabelError, LabelMap

DATA = {"PER", "LOC", "ORG", "MISC"}


def test_order_does_not_matter() -> None:
    a = LabelMap.build({0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC"}, DATA, "a")
    b = LabelMap.build({0: "B-LOC", 1: "I-PER", 2: "O", 3: "B-PER"}, DATA, "b")
    assert a.to_tags([1, 2, 0, 3]) == b.to_tags([3, 1, 2, 0]) == ["B-PER", "I-PER", "O", "B-LOC"]


def test_string_keys_from_json_configs() -> None:
    assert LabelMap.build({"0": "O", "1": "B-PER"}, DATA, "c").tags == ("O", "B-PER")  # type: ignore[dict-item]


def test_extra_and_missing_types() -> None:
    labels = LabelMap.build({0: "O", 1: "B-PER", 2: "I-PER", 3: "B-DATE", 4: "I-DATE"}, DATA, "multi")
    assert labels.tags == ("O", "B-PER", "I-PER", "O", "O")
    assert labels.dropped_types == {"DATE"}
    assert labels.unpredictable_types == {"LOC", "ORG", "MISC"}
    assert labels.dropped_counts([0, 3, 4, 4, 1]) == {"DATE": 3}


BAD = {
    "generic-names": ({0: "LABEL_0", 1: "LABEL_1"}, "only generic names"),
    "not-iob": ({0: "O", 1: "PER"}, "id2label[1] is 'PER', not O or PREFIX-TYPE"),
    "bilou-and-bioes": ({0: "O", 1: "U-PER", 2: "S-LOC"}, "mix BILOU's L-/U- prefixes with BIOES's E-/S-"),
    "gap-in-ids": ({0: "O", 2: "B-PER"}, "ids must be 0..N-1"),
    "nothing-shared": ({0: "O", 1: "B-GENE"}, "share none with the data's"),
}


@pytest.mark.parametrize(("id2label", "message"), BAD.values(), ids=BAD.keys())
def test_unusable_label_sets_name_the_checkpoint(id2label: dict[int, str], message: str) -> None:
    with pytest.raises(LabelError, match="checkpoint my/ckpt: ") as error:
        LabelMap.build(id2label, DATA, "my/ckpt")
    assert message in str(error.value)


def test_iob_predictions_are_kept_word_for_word_and_a_map_never_joins_entities() -> None:
    from nerperf.data.type_map import TypeMap

    labels = LabelMap.build({0: "O", 1: "B-PER", 2: "I-PER", 3: "I-PERSON"}, DATA, "a", TypeMap.parse(["PERSON=PER"]))
    assert labels.decode([0, 2, 2]) == ["O", "I-PER", "I-PER"]  # as predicted: token accuracy sees the model's tags
    assert labels.decode([1, 2, 3]) == ["B-PER", "I-PER", "B-PER"]  # I-PERSON after PER: a new entity
