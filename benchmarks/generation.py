"""Issue 2's figures: generation, no-op regeneration, and import times of the generated client."""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks._harness import python_startup_ms, report, run_seconds, spec_location


def run() -> dict[str, float]:
    spec = spec_location()
    esi = str(Path(sys.executable).with_name("esi"))
    work = Path(tempfile.mkdtemp(prefix="esikit-bench-"))
    try:
        output = work / "esi_client"
        generate = [esi, "generate", "--spec", spec, "--output", str(output)]
        full = statistics.median(run_seconds([*generate, "--force"]) for _ in range(3))
        noop = statistics.median(run_seconds(generate) for _ in range(5))
        raw = [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            "--path",
            spec,
            "--meta",
            "none",
            "--overwrite",
            "--output-path",
            str(work / "raw"),
        ]
        raw_seconds = statistics.median(run_seconds(raw) for _ in range(3))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"spec: {spec}")
    report(
        "generate_s", full, "s", " ".join([*generate, "--force"]), ("raw openapi-python-client", raw_seconds)
    )
    report("regenerate_noop_s", noop, "s", " ".join(generate), ("full generation", full))

    bare = python_startup_ms("pass")
    httpx2_ms = python_startup_ms("import httpx2") - bare
    client_ms = python_startup_ms("import esi_client") - bare
    one_op = "import esi_client.api.market.get_markets_region_id_orders"
    one_op_ms = python_startup_ms(one_op) - bare
    print(f"import times: fresh interpreter minus a bare one ({bare:.1f} ms), median of 15")
    report(
        "import_client_ms",
        client_ms,
        "ms",
        f'{sys.executable} -c "import esi_client"',
        ("import httpx2", httpx2_ms),
    )
    report(
        "import_one_operation_ms",
        one_op_ms,
        "ms",
        f'{sys.executable} -c "{one_op}"',
        ("import httpx2", httpx2_ms),
    )
    return {
        "generate_s": full,
        "regenerate_noop_s": noop,
        "import_client_ms": client_ms,
        "import_one_operation_ms": one_op_ms,
    }
