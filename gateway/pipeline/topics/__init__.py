"""Topics (议题): work orders about one matter at one place, across reports.

What comes in: the masked texts and places of a report's routed work orders,
and the topics already known from earlier reports. What goes out: each work
order's topic, the topic's features (keywords, places, time span, citizens,
near-duplicate issues, likes or repeat counts) and its hotness, from which the
route stage makes clues.

- `text`: word segmentation (rjieba, with a user dictionary from the gazetteer,
  the taxonomy and the place names the corpus itself names), place and
  organisation extraction, matter keywords;
- `cluster`: TF-IDF over matter words, sparse candidate search through shared
  places and rare keywords, edges on matter *and* place, connected components
  (no dense n×n matrix);
- `store`: the persistent topic index (a topic of this week continues last
  week's);
- `hotness`: the documented score and the clue type decided from features.
"""
