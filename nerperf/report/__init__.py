"""Views of results already recorded: text and Markdown tables, figures, and the report's pages.

:mod:`.tables` renders the study's Table 5 and a run's summary (the terminal, ``summary.md``);
:mod:`.figures` draws the study's Figures 3-5 and the Pareto frontier (the only user of matplotlib);
:mod:`.pages` writes ``nerperf report``'s Markdown and HTML; :mod:`.merge` chooses which results a report
shows; :mod:`.pareto` is the frontier the figures and ``nerperf tune`` draw. Nothing here measures.
"""
