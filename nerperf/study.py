"""The study nerperf grows out of, as the facts its defaults come from.

The study compared five Hugging Face NER checkpoints (BERT-base the baseline) on the first 1,000
sentences of CoNLL-2003 English's validation split. Its checkpoints are :mod:`nerperf.models.registry`'s and
their architectures :mod:`nerperf.models.architectures`'; these are the rest, named once.
"""

from __future__ import annotations

DATA = "eriktks/conll2003"  # CoNLL-2003 English on the hub
SPLIT = "validation"
SENTENCES = 1000  # its sample: the first 1,000 sentences of the split
BASELINE = "bert-base-ner"  # dslim/bert-base-NER, by its name in nerperf.models.registry.STUDY
NAME = (
    'the study: "BERT model optimization methods for inference - a comparative study of five alternative '
    'BERT-model implementations" (LUT University, 2022)'
)
PUBLISHED_HOW = "Table 5, measured on Google Colab with evaluate's token-classification evaluator, batch size 1"


def is_sample(data: str, split: str | None, sentences: int) -> bool:
    """Whether a result is on the study's sample (its published figures compare): the first 1,000
    sentences of CoNLL-2003's validation split, from the hub or from a file.

    >>> is_sample("../shared/data/conll2003/valid.txt", "validation", 1000), is_sample("wnut.tsv", None, 1000)
    (True, False)
    """
    name = data.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].lower()
    validation = split == SPLIT and "conll2003" in data.lower() or name in ("valid.txt", "eng.testa")
    return sentences == SENTENCES and validation
