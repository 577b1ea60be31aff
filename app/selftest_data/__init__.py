"""Data for `frontier-review selftest`, shipped inside the wheel and the bundle.

inspect_wmdp_cyber.json: a copy of tests/fixtures/inspect/wmdp_cyber_ok.json, a real Inspect log
made offline by tests/fixtures/make_fixtures.py (tests/ is not part of the wheel).
"""
