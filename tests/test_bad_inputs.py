"""The bad-input catalogue: what a user may give nerperf by mistake, and what nerperf does with each.

Every case runs the command line end to end (``nerperf eval``, ``nerperf report``, or a pytest run with
the plugin) with output already there from an earlier run. A refusal must exit 2 with a message that
names what is wrong, where (the file and line, the checkpoint, the option) and what to do, and must
leave the earlier output byte-identical with nothing beside it. A fallback must exit 0, say so in its
notes, and count it in the JSON result. The table in docs/bad-input-and-faults.md is rendered from
``CATALOGUE`` (``python tests/test_bad_inputs.py`` prints it; a test checks the page has it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tiny import (
    CONLL_LABELS,
    SENTENCES,
    Exploit,
    build_model,
    build_tokenizer,
    copy_checkpoint,
    save_always_predicting,
    write_conll,
)

from nerperf.cli import main
from nerperf.results import EvalResult

EARLIER = b"an earlier run's output\n"
CATALOGUE_PAGE = Path(__file__).parent.parent / "docs" / "bad-input-and-faults.md"


@dataclass(frozen=True)
class Case:
    input: str  # the table's first column
    outcome: str  # the table's second column
    make: Callable[[Path, Path], list[str]]  # (tmp, tiny checkpoint) -> arguments of `nerperf`
    says: tuple[str, ...]  # what the message must contain; {tmp} is the case's directory
    refused: bool = True
    counted: Callable[[EvalResult], object] | None = None  # a fallback's count, checked truthy
    env: dict[str, str] = field(default_factory=dict)


def text(tmp: Path, content: str | bytes, name: str = "data.txt") -> Path:
    path = tmp / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def good_data(tmp: Path) -> Path:
    return write_conll(tmp / "good.txt", SENTENCES)


def run_eval(model: Path | str, data: Path | str, *options: str) -> list[str]:
    return ["eval", "--model", str(model), "--data", str(data), *options]


def with_options(*options: str) -> Callable[[Path, Path], list[str]]:
    """The tiny checkpoint on good data, with ``options``."""
    return lambda tmp, model: run_eval(model, good_data(tmp), *options)


def on_data(content: str | bytes, *options: str) -> Callable[[Path, Path], list[str]]:
    return lambda tmp, model: run_eval(model, text(tmp, content), *options)


def edited(
    edit: Callable[[Path], object], data: Callable[[Path], Path] = good_data
) -> Callable[[Path, Path], list[str]]:
    """A copy of the tiny checkpoint changed by ``edit(directory)``, evaluated on ``data``."""

    def make(tmp: Path, model: Path) -> list[str]:
        target = copy_checkpoint(model, tmp / "checkpoint")
        edit(target)
        return run_eval(target, data(tmp))

    return make


def config_change(**changes: object) -> Callable[[Path], None]:
    def edit(directory: Path) -> None:
        config = json.loads((directory / "config.json").read_text())
        for key, value in changes.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        (directory / "config.json").write_text(json.dumps(config))

    return edit


def labels(*names: str) -> dict[str, object]:
    return {"id2label": {str(i): n for i, n in enumerate(names)}, "label2id": {n: i for i, n in enumerate(names)}}


def remove(*patterns: str) -> Callable[[Path], None]:
    return lambda directory: [p.unlink() for pattern in patterns for p in directory.glob(pattern)]


def cut_weights(directory: Path) -> None:
    weights = directory / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])


def scramble_header(directory: Path) -> None:
    weights = directory / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[8:40] = b"#" * 32
    weights.write_bytes(bytes(data))


def remote_code(directory: Path) -> None:
    (directory / "modeling_mine.py").write_text("raise SystemExit('remote code ran')\n")
    config_change(model_type="my-own-ner", auto_map={"AutoModelForTokenClassification": "modeling_mine.MyModel"})(
        directory
    )


def pickled(payload: Callable[[Path], object]) -> Callable[[Path], None]:
    def edit(directory: Path) -> None:
        import torch

        content = payload(directory)
        (directory / "model.safetensors").unlink()
        torch.save(content, directory / "pytorch_model.bin")

    return edit


def plain_tensors(directory: Path) -> object:
    from safetensors.torch import load_file

    return load_file(directory / "model.safetensors")


def base_model_only(tmp: Path, model: Path) -> list[str]:
    from transformers import BertModel

    tokenizer = build_tokenizer("wordpiece")
    BertModel(build_model("wordpiece", len(tokenizer)).config).save_pretrained(tmp / "base")
    tokenizer.save_pretrained(tmp / "base")
    return run_eval(tmp / "base", good_data(tmp))


def always_predicting(label: str, names: tuple[str, ...]) -> Callable[[Path, Path], list[str]]:
    """A checkpoint with labels ``names`` whose classifier always picks ``label``."""

    def make(tmp: Path, model: Path) -> list[str]:
        return run_eval(save_always_predicting(tmp / "biased", label, names), good_data(tmp))

    return make


def split_directory(tmp: Path, model: Path) -> list[str]:
    (tmp / "split").mkdir()
    text(tmp / "split", "-DOCSTART- -X- -X- O\n\n", "valid.txt")
    return run_eval(model, tmp / "split")


def damaged_cache_entry(tmp: Path, model: Path) -> list[str]:
    from nerperf.evaluation import Preparation, Timing, evaluate

    cache = tmp / "cache"
    evaluate(
        model, good_data(tmp), variant="onnx", timing=Timing(warmup=False), preparation=Preparation(cache_dir=cache)
    )
    (onnx,) = cache.glob("*/model.onnx")
    onnx.write_bytes(onnx.read_bytes()[:100])
    return run_eval(model, good_data(tmp), "--variant", "onnx", "--cache-dir", str(cache))


def report_of(content: str) -> Callable[[Path, Path], list[str]]:
    return lambda tmp, model: ["report", str(text(tmp, content, "results.json")), "--out", str(tmp / "out")]


LONG_SENTENCE = "Peter B-PER\n" + "".join(f"word{i % 7} O\n" for i in range(89))  # more than the 64-token window
CATALOGUE: dict[str, Case] = {
    # -- data ------------------------------------------------------------------------------------------
    "missing-column": Case(
        "A CoNLL line with one column (a word without its tag)",
        "Refused: file and line, the columns expected",
        on_data("EU B-ORG\nrejects\n"),
        ("{tmp}/data.txt:2: expected at least 2 columns (WORD ... NER_TAG)",),
    ),
    "column-count": Case(
        "A line with a different number of columns from the file's first",
        "Refused: file and line, both column counts",
        on_data("EU NNP B-ORG\nrejects O\n"),
        ("{tmp}/data.txt:2: 2 columns where the file's first token line has 3",),
    ),
    "unknown-tag": Case(
        "An unknown tag (`X-PER`, `PER`, a typo)",
        "Refused: file, line and tag; the prefixes and schemes nerperf reads",
        on_data("Peter X-PER\nlives O\n"),
        ("{tmp}/data.txt:1: tag 'X-PER' is not O or PREFIX-TYPE", "IOB1, IOB2, IOE1, IOE2, BIOES and BILOU"),
    ),
    "ill-formed-bioes": Case(
        "BIOES data with an entity that never ends (`B-PER` then `O`)",
        "Refused: file, line, tag and its neighbours; check the tags or the scheme",
        on_data("Peter B-PER\nlives O\nin O\nParis S-LOC\n"),
        ("{tmp}/data.txt:1: tag 'B-PER' is not a well-formed BIOES entity here (context: B-PER O O)",),
    ),
    "other-scheme-given": Case(
        "BIOES data read with `--tag-scheme bilou`",
        "Refused: the line of the first tag that scheme does not use",
        on_data("Peter S-PER\nlives O\n", "--tag-scheme", "bilou"),
        ("{tmp}/data.txt:1: tag 'S-PER' has prefix S-, which BILOU does not use",),
    ),
    "iob1-as-iob2": Case(
        "IOB1 data read with `--tag-scheme iob2`",
        "Refused: the first `I-` that starts an entity, by line; use `auto` or `iob1`",
        on_data("EU B-ORG\nPeter I-PER\n", "--tag-scheme", "iob2"),
        ("{tmp}/data.txt:2: I-PER starts an entity", "pass scheme 'iob1' or 'auto'"),
    ),
    "column-out-of-range": Case(
        "A column option beyond the line (`--tag-column 3` on a 2-column file)",
        "Refused: file, line, how many columns it has, and the option",
        on_data("Peter B-PER\nlives O\n", "--tag-column", "3"),
        ("{tmp}/data.txt:1: the tag column 3 is out of range: the line has 2 columns", "set --tag-column"),
    ),
    "iob1": Case(
        "IOB1 data (the original CoNLL-2003 release)",
        "Converted to IOB2, the same entities; the note counts the entities that started with `I-`",
        on_data("Peter I-PER\nBlackburn I-PER\nlives O\nin O\nBrussels I-LOC\nand O\nEU I-ORG\n"),
        ("tags read as IOB1 (3 entities start with I-), converted to IOB2",),
        refused=False,
        counted=lambda result: result.data_scheme.startswith("IOB1 (3 entities"),
    ),
    "empty-file": Case(
        "An empty file",
        "Refused: the file has no sentences",
        on_data(""),
        ("{tmp}/data.txt: no sentences found",),
    ),
    "no-entities": Case(
        "Data whose tags are all `O`",
        "Refused: precision, recall and F1 are undefined without entities",
        on_data("Peter O\nlives O\n"),
        ("{tmp}/data.txt: no entities (every tag is O)",),
    ),
    "no-entities-in-sample": Case(
        "A `--sentences` whose sentences hold no entity (the split has some)",
        "Refused: use more sentences",
        on_data("Peter O\nlives O\n\nEU B-ORG\n", "--sentences", "1"),
        ("{tmp}/data.txt: the first 1 sentences hold no entity", "evaluate more sentences (the sentences setting"),
    ),
    "empty-split": Case(
        "A split with no sentences (only `-DOCSTART-`)",
        "Refused: the split's file has no sentences",
        split_directory,
        ("{tmp}/split/valid.txt: no sentences found",),
    ),
    "binary-file": Case(
        "A file that is not text (NUL bytes)",
        "Refused: file and line; give a CoNLL column file",
        on_data(b"PK\x03\x04\x00\x00binary"),
        ("{tmp}/data.txt:1: NUL byte: this is not a text file",),
    ),
    "not-utf8": Case(
        "A file that is not UTF-8 (Latin-1)",
        "Refused: file and line; name the encoding (`--encoding latin-1`) or re-encode as UTF-8",
        on_data("Peter B-PER\nM\u00fcller I-PER\n".encode("latin-1")),
        ("{tmp}/data.txt:2: not valid UTF-8", "name the file's encoding with --encoding", "re-encode it as UTF-8"),
    ),
    "no-such-data": Case(
        "A data path that does not exist",
        "Refused: what can be given instead",
        lambda tmp, model: run_eval(model, tmp / "nowhere.txt"),
        ("{tmp}/nowhere.txt: no such file or directory (give a CoNLL file, a directory, or a hub id)",),
    ),
    "directory-without-splits": Case(
        "A directory without split files",
        "Refused: the file names a split directory needs",
        lambda tmp, model: run_eval(model, (tmp / "empty").mkdir() or tmp / "empty"),
        ("cannot load split 'validation'", "a directory needs CoNLL files named train.txt"),
    ),
    "hub-dataset-offline": Case(
        "A hub dataset id while the hub cannot be reached",
        "Refused in milliseconds (not after retries): use a local file, or `HF_HUB_OFFLINE=1` for the cache",
        lambda tmp, model: run_eval(model, "eriktks/conll2003"),
        ("dataset 'eriktks/conll2003' is a hub id, but the Hugging Face hub cannot be reached", "set HF_HUB_OFFLINE=1"),
        env={"HF_ENDPOINT": "http://127.0.0.1:9"},
    ),
    "unaligned-words": Case(
        "Words that give no sub-token (a zero-width space, a lone control character)",
        "Scored as `O` and counted: a WARNING line and `coverage.unaligned_words`",
        on_data("Peter B-PER\n\u200b O\n\x07 O\nlives O\n"),
        ("WARNING: 2 words produced no sub-token and were scored as O",),
        refused=False,
        counted=lambda result: result.coverage.unaligned_words == 2,
    ),
    "trailing-tab": Case(
        'A trailing tab on a token line of a tab-separated file (`1<TAB>"<TAB>O<TAB>O<TAB>`)',
        "Read as absent fields, the same words and tags as without it; a note and `coverage.trailing_separators` "
        "count the lines (a line missing an inner field is still refused)",
        on_data('1\tPeter\tB-PER\tO\n2\t"\tO\tO\t\n3\tlives\tO\tO\n', "--word-column", "1", "--tag-column", "2"),
        ("1 token lines ended in empty fields (a trailing tab), read as absent fields",),
        refused=False,
        counted=lambda result: result.coverage.trailing_separators,
    ),
    "blank-words": Case(
        "A word that is a lone space or empty in a tab-separated file (`' <TAB>O'`, `'<TAB>O'`)",
        "A word: no sub-token, so scored as `O` and counted (the WARNING line says how many were blank, "
        "`coverage.blank_words`); its gold tag is kept",
        on_data("Peter\tB-PER\n \tI-PER\nlives\tO\n\tO\nin\tO\n"),
        ("WARNING: 2 words produced no sub-token and were scored as O, 2 of them empty or only whitespace",),
        refused=False,
        counted=lambda result: result.coverage.blank_words,
    ),
    "long-sentence": Case(
        "A sentence longer than the model's window",
        "Predicted in overlapping windows, each word once, from the window where it has most context; counted",
        on_data(LONG_SENTENCE),
        ("1 sentences were longer than the model window: predicted in overlapping windows",),
        refused=False,
        counted=lambda result: result.coverage.windowed_sentences == 1 and result.coverage.words == 90,
    ),
    # -- checkpoints -----------------------------------------------------------------------------------
    "no-such-checkpoint": Case(
        "A checkpoint path that does not exist (and is not a hub id)",
        "Refused: no such directory",
        lambda tmp, model: run_eval(tmp / "a" / "b" / "c", good_data(tmp)),
        ("checkpoint {tmp}/a/b/c: no such directory, and not a hub id",),
    ),
    "checkpoint-is-a-file": Case(
        "A checkpoint path that is a file",
        "Refused: give the checkpoint's directory",
        lambda tmp, model: run_eval(model / "config.json", good_data(tmp)),
        ("config.json: is a file; give the checkpoint's directory",),
    ),
    "hub-checkpoint-offline": Case(
        "A hub checkpoint id while the hub cannot be reached",
        "Refused in milliseconds: give a checkpoint directory, or `HF_HUB_OFFLINE=1` for the cache",
        lambda tmp, model: run_eval("dslim/bert-base-NER", good_data(tmp)),
        ("checkpoint 'dslim/bert-base-NER' is a hub id, but the Hugging Face hub cannot be reached",),
        env={"HF_ENDPOINT": "http://127.0.0.1:9"},
    ),
    "no-tokenizer": Case(
        "A checkpoint directory without tokenizer files",
        "Refused: the files the directory needs (transformers 5 would build an empty tokenizer silently)",
        edited(remove("tokenizer*", "vocab*", "special*")),
        ("checkpoint {tmp}/checkpoint: its tokenizer has 5 tokens for a model with", "needs tokenizer.json"),
    ),
    "no-weights": Case(
        "A checkpoint directory without weights",
        "Refused: the weight files looked for",
        edited(remove("model.safetensors")),
        ("checkpoint {tmp}/checkpoint: no weights file (model.safetensors",),
    ),
    "truncated-weights": Case(
        "A truncated `model.safetensors`",
        "Refused: corrupt or truncated, re-download or re-save",
        edited(cut_weights),
        ("checkpoint {tmp}/checkpoint: cannot load its safetensors weights", "re-download or re-save it"),
    ),
    "corrupted-weights": Case(
        "A corrupted `model.safetensors` (overwritten header)",
        "Refused: corrupt or truncated, re-download or re-save",
        edited(scramble_header),
        ("checkpoint {tmp}/checkpoint: cannot load its safetensors weights", "re-download or re-save it"),
    ),
    "pickled-weights": Case(
        "Pickled weights (`pytorch_model.bin`) holding only tensors",
        "Loaded with `torch.load(weights_only=True)`; scored like the safetensors copy",
        edited(pickled(plain_tensors)),
        ("matching: seqeval conlleval mode",),
        refused=False,
        counted=lambda result: result.scores is not None and result.coverage.words == 35,
    ),
    "pickled-code": Case(
        "Pickled weights that run code when unpickled",
        "Refused: `weights_only=True` will not unpickle it; nothing runs",
        edited(pickled(lambda directory: {"classifier.weight": Exploit()})),
        ("checkpoint {tmp}/checkpoint: cannot load its pickle (weights_only) weights", "unsafe"),
    ),
    "remote-code": Case(
        "A checkpoint that asks for remote code (`auto_map` in config.json)",
        "Refused: nerperf never sets `trust_remote_code`",
        edited(remote_code),
        ("checkpoint {tmp}/checkpoint: refused: it needs custom code from its repository (trust_remote_code)",),
    ),
    "no-id2label": Case(
        "A config.json without `id2label`",
        "Refused before loading weights: labels are mapped by name, so add the names",
        edited(config_change(id2label=None, label2id=None)),
        ("checkpoint {tmp}/checkpoint: config.json has no id2label", "add the names the model was trained with"),
    ),
    "generic-labels": Case(
        "Generic label names (`LABEL_0`, `LABEL_1`, ...)",
        "Refused: add the real names to config.json",
        edited(config_change(**labels(*(f"LABEL_{i}" for i in range(len(CONLL_LABELS)))))),
        ("checkpoint {tmp}/checkpoint: config.id2label has only generic names", "add the real names"),
    ),
    "labels-not-iob": Case(
        "Labels without a scheme's prefix (`PER`, `LOC`)",
        "Refused: the label id and name",
        edited(config_change(**labels("O", "PER", "ORG", "LOC", "MISC", "S-PER", "E-PER", "S-LOC", "E-LOC"))),
        ("checkpoint {tmp}/checkpoint: config.json id2label[1] is 'PER', not O or PREFIX-TYPE",),
    ),
    "no-shared-type": Case(
        "A label set that shares no entity type with the data",
        "Refused: both type lists; check that model and data match",
        edited(config_change(**labels("O", "B-GENE", "I-GENE", "B-CHEM", "I-CHEM", "B-X", "I-X", "B-Y", "I-Y"))),
        ("its entity types (CHEM, GENE, X, Y) share none with the data's (LOC, MISC, ORG, PER)",),
    ),
    "unused-label-map": Case(
        "A label map naming a type found neither in the data nor in the model (`--label-map person=PER`)",
        "Evaluated; a WARNING line and `coverage.unused_label_map` name it",
        with_options("--label-map", "person=PER"),
        ("WARNING: the label map names person, found neither in the data nor in the model's labels",),
        refused=False,
        counted=lambda result: result.coverage.unused_label_map == ("person",),
    ),
    "label-map-not-pair": Case(
        "A label map entry that is neither `FROM=TO` nor a file (`--label-map person`)",
        "Refused: the entry and the two forms it may take",
        with_options("--label-map", "person"),
        ("label map 'person': neither FROM=TO nor an existing file",),
    ),
    "extra-type": Case(
        "A model type the data lacks (`DATE`)",
        "Its predictions are scored as `O` and counted by type: a WARNING line and `coverage.dropped_predictions`",
        always_predicting("B-DATE", (*CONLL_LABELS, "B-DATE", "I-DATE")),
        ("WARNING: predictions of types the data lacks were scored as O (DATE: 35)",),
        refused=False,
        counted=lambda result: result.coverage.dropped_predictions == {"DATE": 35},
    ),
    "missing-type": Case(
        "A data type the model has no label for (`MISC`)",
        "Kept in the score as misses: a WARNING line and `coverage.unpredictable_types`",
        always_predicting("O", CONLL_LABELS[:7]),
        ("WARNING: the model cannot predict MISC: scored as misses",),
        refused=False,
        counted=lambda result: result.coverage.unpredictable_types == ("MISC",) and result.f1 == 0.0,
    ),
    "headless": Case(
        "A base model without its token-classification head",
        "Refused: the missing weights (transformers would fill them with random values)",
        base_model_only,
        ("checkpoint {tmp}/base: weights missing for classifier", "fine-tuned token-classification checkpoint"),
    ),
    "not-token-classification": Case(
        "An architecture with no token-classification model (ViT)",
        "Refused: give a checkpoint fine-tuned for token classification",
        edited(config_change(model_type="vit", architectures=["ViTModel"])),
        ("checkpoint {tmp}/checkpoint: vit has no token-classification model in transformers",),
    ),
    "too-big": Case(
        "A checkpoint larger than the memory available (here `NERPERF_MEMORY_LIMIT=64KiB`)",
        "Refused before loading weights: parameters, memory needed and available, and where the limit is from",
        with_options(),
        (
            "refused before loading: its 0M parameters need about",
            "available (the memory_limit setting: NERPERF_MEMORY_LIMIT)",
        ),
        env={"NERPERF_MEMORY_LIMIT": "64KiB"},
    ),
    "damaged-cache-entry": Case(
        "A damaged entry in the variant cache (truncated `model.onnx`)",
        "Rebuilt: the manifest's sizes and SHA-256 no longer match (an entry from other library versions has "
        "another key and is never used)",
        damaged_cache_entry,
        ("variant: onnx",),
        refused=False,
        counted=lambda result: not result.build.from_cache,
    ),
    # -- options ---------------------------------------------------------------------------------------
    "zero-batch": Case(
        "`--batch-size 0`",
        "Refused: the option and the value's rule",
        with_options("--batch-size", "0"),
        ("argument --batch-size: '0' must be at least 1",),
    ),
    "word-for-number": Case(
        "`--sentences many`",
        "Refused: the option and the value's rule",
        with_options("--sentences", "many"),
        ("argument --sentences/--limit: 'many' is not a whole number",),
    ),
    "unknown-scheme": Case(
        "`--tag-scheme bio`",
        "Refused: the choices",
        with_options("--tag-scheme", "bio"),
        ("unknown tag scheme 'bio'; use one of auto, iob1, iob2, ioe1, ioe2, bioes, bilou",),
    ),
    "unknown-variant": Case(
        "`--variant int9`",
        "Refused before any loading: the nearest name and the list",
        with_options("--variant", "int9"),
        ("unknown variant 'int9': did you mean 'int8'?",),
    ),
    "unwritable-json": Case(
        "`--json` where nothing can be written",
        "Refused before the evaluation, not after it",
        lambda tmp, model: run_eval(model, good_data(tmp), "--json", str(tmp / "out" / "result.json" / "x.json")),
        ("--json {tmp}/out/result.json/x.json: cannot write there",),
    ),
    "memory-limit-word": Case(
        "`NERPERF_MEMORY_LIMIT=lots`",
        "Refused: how to write a size",
        with_options(),
        ("NERPERF_MEMORY_LIMIT: 'lots' is not a size; write it like 4GiB",),
        env={"NERPERF_MEMORY_LIMIT": "lots"},
    ),
    "plugin-setting": Case(
        "A nonsense plugin setting (`NERPERF_SENTENCES=abc`, or in the ini file)",
        "pytest stops with a usage error naming the variable or ini key",
        lambda tmp, model: ["pytest"],
        ("nerperf: NERPERF_SENTENCES: 'abc' is not a whole number",),
        env={"NERPERF_SENTENCES": "abc"},
    ),
    # -- reports ---------------------------------------------------------------------------------------
    "truncated-result": Case(
        "`nerperf report` on a truncated result file",
        "Refused: the file and the JSON error; the earlier report stays whole",
        report_of('{"benchmarks": [{"name": "test_lat'),
        ("{tmp}/results.json: cannot read it as JSON",),
    ),
    "foreign-json": Case(
        "`nerperf report` on JSON that is not a nerperf result",
        "Refused: the file and what nerperf reads",
        report_of('{"hello": "world"}'),
        ("{tmp}/results.json: not a nerperf result: give", "the plugin's results.json"),
    ),
}


@pytest.mark.parametrize("name", CATALOGUE)
def test_catalogue(
    name: str,
    bert_checkpoint: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    case = CATALOGUE[name]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty hub cache
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "out"
    out.mkdir()
    earlier = out / ("report.md" if name in {"truncated-result", "foreign-json"} else "result.json")
    earlier.write_bytes(EARLIER)
    argv = case.make(tmp_path, bert_checkpoint)
    if argv == ["pytest"]:
        code, message = run_plugin(request.getfixturevalue("pytester"), out)
    else:
        own_output = argv[0] == "report" or "--json" in argv
        code, message = run_cli(argv if own_output else [*argv, "--json", str(out / "result.json")], capsys)
    for expected in case.says:
        assert expected.format(tmp=tmp_path) in message
    if case.refused:
        assert code == 2, message
        assert earlier.read_bytes() == EARLIER  # nothing overwritten ...
        assert sorted(p.name for p in out.iterdir()) == [earlier.name]  # ... nor left beside it
    else:
        assert code == 0, message
        result = EvalResult.from_json(earlier.read_text())
        assert case.counted is not None and case.counted(result), result.coverage
        assert sorted(p.name for p in out.iterdir()) == ["result.json"]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def run_plugin(pytester: pytest.Pytester, out: Path) -> tuple[int, str]:
    pytester.makepyfile(test_suite="from nerperf.suite import test_f1_floor\n")
    done = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--nerperf-report={out}")
    return (2 if done.ret == pytest.ExitCode.USAGE_ERROR else int(done.ret)), done.stdout.str() + done.stderr.str()


def catalogue_table() -> str:
    rows = [f"| {case.input} | {case.outcome} |" for case in CATALOGUE.values()]
    return "\n".join(["| Input | What nerperf does |", "|---|---|", *rows])


def test_the_docs_list_the_catalogue() -> None:
    page = CATALOGUE_PAGE.read_text()
    assert catalogue_table() in page, f"update the table in {CATALOGUE_PAGE}: python tests/test_bad_inputs.py"
    assert f"{len(CATALOGUE)} cases" in page


if __name__ == "__main__":
    print(catalogue_table())
