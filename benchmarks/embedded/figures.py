"""The in-process core's figures for benchmarks/run (imported by it; kept apart so the
benchmark's own file stays the stdio core's).

Start-up is open-to-first-answer: mmcore_open, an `init` line, its answer; the first
open in a process (the Swift runtime's first use, the core's threads) apart from the
following ones. Round trip is one getUser in flight at a time through mmcore_input and
the output callback. Each is measured beside mmcore on stdio in the same run, driven the
same way (benchmarks/embedded/inprocess.c is driver.c's startup and roundtrip through
the C interface).
"""
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def build(run, smoke, no_build):
    """Builds the library as mmcore is built for this run (debug for the smoke run, else
    scripts/release's flags, so the release modules mmcore was built from are reused)
    and the driver against it; returns the driver's path."""
    flags = ["-c", "debug"] if smoke else run.RELEASE.swift_build_flags()
    if not no_build:
        run.log("building MMCoreEmbedded ...")
        subprocess.run(["swift", "build", *flags, "--product", "MMCoreEmbedded"], cwd=ROOT, check=True)
    bin_dir = subprocess.run(["swift", "build", *flags, "--show-bin-path"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    driver = os.path.join(run.OUT, "inprocess")
    subprocess.run(["cc", "-std=c11", "-O2", "-Wall", "-I", os.path.join(ROOT, "include"),
                    os.path.join(HERE, "inprocess.c"), "-L", bin_dir, "-lMMCoreEmbedded",
                    f"-Wl,-rpath,{bin_dir}", "-lpthread", "-o", driver], check=True)
    return driver


def inprocess(driver, *args):
    result = subprocess.run([driver, *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"inprocess {args[0]} failed ({result.returncode}): {result.stderr.strip()}")
    return json.loads(result.stdout)


def figures(run, p, tmp, mmcore, smoke, no_build):
    driver = build(run, smoke, no_build)
    init = run.request(1, "init", [{"applicationCode": "bench", "backendBaseURL": "http://127.0.0.1:1"}])

    # Start-up: each round is one process opening the core `startups` times.
    first, warm, closing, stdio = [], [], [], []
    run.drive("startup", 1, init, "--", mmcore, "--state-dir", os.path.join(tmp, "emb-stdio-state"))  # warm-up
    for _ in range(p["rounds"]):
        out = inprocess(driver, "startup", p["startups"], os.path.join(tmp, "emb-state"), init)
        run.expect(out["errors"] == 0 and json.loads(out["sample"]).get("result", 0) is None,
                   f"in-process init did not answer with a null result: {out}")
        first.append(out["seconds"][0])
        warm += out["seconds"][1:]
        closing += out["close_seconds"]
        spawned = run.drive("startup", p["startups"], init, "--", mmcore, "--state-dir", os.path.join(tmp, "emb-stdio-state"))
        run.expect(spawned["errors"] == 0 and spawned["bad_exits"] == 0, f"start-up of mmcore: {spawned}")
        stdio += spawned["seconds"]
    m_stdio = run.median(stdio)
    samples = {"first open in a process": first, "later opens": warm, "close": closing, "mmcore stdio": stdio}
    rows = [
        run.row("in process", "start-up: first open in a process to init's answer (ms)", run.median(first) * 1e3,
                "mmcore spawn, init, answer, exit", m_stdio * 1e3, None, None, samples),
        run.row("in process", "start-up: later opens to init's answer (ms)", run.median(warm) * 1e3,
                "mmcore spawn, init, answer, exit", m_stdio * 1e3, None, None, None),
        run.row("in process", "close after init (ms)", run.median(closing) * 1e3, "", None, None, None, None),
    ]

    # Round trip: one getUser in flight, through the callback vs through the pipes.
    setup = run.write_lines(os.path.join(tmp, "emb-rt-setup.jsonl"), [
        run.request(0, "init", [{"applicationCode": "bench", "backendBaseURL": "http://127.0.0.1:1"}])])
    template = '{"jsonrpc":"2.0","id":{i},"method":"getUser"}'
    embedded_runs, stdio_runs = [], []
    for _ in range(min(p["rounds"], 3)):
        out = inprocess(driver, "roundtrip", os.path.join(tmp, "emb-rt-state"), setup, p["roundtrips"], template)
        run.expect(out["errors"] == 0 and out["setup_errors"] == 0, f"in-process round trip: {out}")
        embedded_runs.append(out)
        spawned = run.drive("roundtrip", setup, p["roundtrips"], template, "--", mmcore, "--state-dir",
                            os.path.join(tmp, "emb-rt-stdio-state"))
        run.expect(spawned["errors"] == 0 and spawned["exit"] == 0, f"round trip of mmcore: {spawned}")
        stdio_runs.append(spawned)
    for quantile in ("p50", "p99"):
        rows.append(run.row(
            "in process", f"round trip, getUser {quantile}, 1 in flight, {p['roundtrips']} calls (us)",
            run.median([r[quantile] for r in embedded_runs]) * 1e6, "mmcore over stdio",
            run.median([r[quantile] for r in stdio_runs]) * 1e6, None, None,
            {"in process": [r[quantile] for r in embedded_runs], "mmcore stdio": [r[quantile] for r in stdio_runs]}))
    return rows
