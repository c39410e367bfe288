"""Python's json.dumps(value, sort_keys=True), driven by the Rust codec tests.

    python codec_worker.py < expressions
        reads one Python expression per line (`nan` and `inf` are predefined) and prints, per
        line, "ok <json.dumps(value, sort_keys=True)>" or "error <exception type name>".
"""

import json
import sys

NAMES = {"__builtins__": {}, "nan": float("nan"), "inf": float("inf")}

for line in sys.stdin:
    try:
        value = eval(line, NAMES)
        print("ok " + json.dumps(value, sort_keys=True))
    except Exception as error:  # the Rust side compares the failure's type name
        print("error " + type(error).__name__)
