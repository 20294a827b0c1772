#!/usr/bin/env python3
"""Added time to first token of a streamed `auto` request over a `direct` one, for
stream.hold_tokens 0 and 24, against llm-sim with a paced small model. One run, alternated
request by request, medians printed as a markdown table.

    GW_BUILD_DIR=build python3 bench/hold_window.py [--requests 20]
"""

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import harness as h  # noqa: E402

TTFT_MS = 50
TOKENS_PER_S = 100  # 10 ms a token: hold 24 should cost about 240 ms


def first_token_ms(port, model):
    s = h.SSEStream(port, h.chat(model, "Brief me on the quarter", stream=True, max_tokens=60), timeout=10)
    try:
        for t, data in s.events():
            if data == "[DONE]":
                break
            delta = (json.loads(data).get("choices") or [{}])[0].get("delta") or {}
            if delta.get("content"):
                return t * 1000.0
    finally:
        s.close()
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=20)
    n = ap.parse_args().requests
    sim = h.Sim([f"phi-4-mini:ttft_ms={TTFT_MS},tokens_per_s={TOKENS_PER_S}", "gpt-oss-20b"])
    # The SPEC's refusal rule keeps the hold meaningful (a config where no rule could fire on
    # more text commits at the first token), and a normal draft passes it.
    rules = {"after_draft": {"chars_under": 0, "finish_reason_length": False,
                             "refusal": ["(?i)\\bI (don't|do not) know\\b"]}}
    gateways = {}
    try:
        for hold in (0, 24):
            routing = {"stream": {"hold_tokens": hold}, **rules}
            gateways[hold] = h.Gateway(h.config_yaml(sim.port, routing=routing))
        samples = {"direct": [], "auto, hold_tokens 0": [], "auto, hold_tokens 24": []}
        for _ in range(n):  # alternated: direct, hold 0, hold 24, direct, ...
            samples["direct"].append(first_token_ms(gateways[0].port, "phi-4-mini"))
            samples["auto, hold_tokens 0"].append(first_token_ms(gateways[0].port, "auto"))
            samples["auto, hold_tokens 24"].append(first_token_ms(gateways[24].port, "auto"))
        base = statistics.median(samples["direct"])
        print(f"llm-sim phi-4-mini: ttft {TTFT_MS} ms, {TOKENS_PER_S} tokens/s; {n} requests each\n")
        print("| request | first token p50 (ms) | added over direct (ms) |")
        print("|---|---|---|")
        for name, values in samples.items():
            p50 = statistics.median(values)
            print(f"| {name} | {p50:.1f} | {p50 - base:+.1f} |")
    finally:
        for g in gateways.values():
            g.close()
        sim.close()


if __name__ == "__main__":
    main()
