"""nerperf's airspeed velocity (asv) suite: latency, throughput, memory and F1 history across commits.

``asv.conf.json`` at the repository root points here. The benchmarks are in :mod:`.ner`.
"""
