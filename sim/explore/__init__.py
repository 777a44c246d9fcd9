"""Exploration (`run.py explore`, docs/exploration.md): the experiment file (`experiment`: what to vary, the outcomes of
interest), the designs (`designs`), the explore ensemble stored beside an ordinary results store (`runs`), its
analyses read from the store (`analysis`: Morris, Sobol, feature scores, PRIM), their figures (`plots`) and the
explore report (`report`)."""
