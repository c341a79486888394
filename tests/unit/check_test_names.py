#!/usr/bin/env python3
"""Fails on a Catch2 TEST_CASE name that ctest cannot list on its own: catch_discover_tests
turns Catch's list of names into a CMake list, where ';' separates and an unbalanced '[' or
']' keeps the separators up to the next bracket, so several cases collapse into one ctest
entry under a joined name. Usage: check_test_names.py TESTS_DIR"""
import pathlib
import re
import sys

NAME = re.compile(r'TEST_CASE\(\s*"((?:[^"\\]|\\.)*)"')
bad = []
files = sorted(pathlib.Path(sys.argv[1]).rglob("test_*.cpp"))
names = 0
for path in files:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for m in NAME.finditer(line):
            names += 1
            if any(c in m.group(1) for c in "[];"):
                bad.append(f"{path}:{number}: test name \"{m.group(1)}\" holds '[', ']' or ';'")
print("\n".join(bad))
print(f"{names} test names in {len(files)} files, {len(bad)} that ctest would merge")
sys.exit(1 if bad else 0)
