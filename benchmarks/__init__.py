"""Benchmarks of airflow-provider-mdsp against the baselines users have today (Airflow's HttpHook/HttpOperator).

Run ``python -m benchmarks`` (or ``make bench``): it starts the local Insights Hub emulator in its
own process and prints one table of figures measured side by side in the same run, each with its
baseline and the ratio. ``--quick`` gives a smaller run. Nothing here asserts a timing: the test
suite checks behaviour, the figures live in ``docs/benchmarks.md``.
"""
