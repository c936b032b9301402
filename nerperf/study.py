"""The study nerperf grows out of, as the facts its defaults come from.

The study compared five Hugging Face NER checkpoints (BERT-base the baseline) on the first 1,000
sentences of CoNLL-2003 English's validation split. Its checkpoints are :mod:`nerperf.registry`'s and
their architectures :mod:`nerperf.architectures`'; these are the rest, named once.
"""

from __future__ import annotations

DATA = "eriktks/conll2003"  # CoNLL-2003 English on the hub
SPLIT = "validation"
SENTENCES = 1000  # its sample: the first 1,000 sentences of the split
BASELINE = "bert-base-ner"  # dslim/bert-base-NER, by its name in nerperf.registry.STUDY
