"""Decisions (`run.py decide`, docs/decide.md): the decision experiment file (`experiment`: levers, worlds, robustness
measures; an explore experiment file extended), the decision ensemble of every policy in every world (`runs`), the
robustness measures (`robustness`), the analyses read from the store (`analysis`), their figures (`plots`) and the
decision report (`report`). It builds on `sim.explore` (designs, PRIM); explore never imports it."""
