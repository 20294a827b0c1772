#!/usr/bin/env python3
"""A realistic chat request body of an exact size: a RAG-style prompt (system instruction, a
user message carrying numbered context documents, then the question), padded to SIZE bytes.

usage: chat_body.py SIZE MODEL > body.json      (SIZE in bytes, e.g. 1000, 32000, 1000000)
"""
import json
import sys

PARAGRAPH = ("The quarterly maintenance report for the north pumping station lists valve "
             "inspections, pressure readings between 4.1 and 4.6 bar, two replaced seals and a "
             "note that the backup generator was tested for 30 minutes without faults. ")


def body(model: str, context: str) -> str:
    return json.dumps({
        "model": model,
        "messages": [
            {"role": "system",
             "content": "You answer questions using only the context documents given. Cite the document number."},
            {"role": "user",
             "content": "Context documents:\n" + context + "\nQuestion: what did the last inspection find?"},
        ],
        "max_tokens": 64,
    }, separators=(",", ":"))


def main() -> None:
    size, model = int(sys.argv[1]), sys.argv[2]
    context, n = "", 0
    while len(body(model, context)) < size:
        n += 1
        context += f"[doc {n}] {PARAGRAPH}\n"
    # Cut back to the size; a cut newline is 2 bytes in JSON ("\\n"), so pad with spaces after.
    context = context[: len(context) - (len(body(model, context)) - size)]
    while len(body(model, context)) > size:
        context = context[:-1]
    context += " " * (size - len(body(model, context)))
    out = body(model, context)
    if len(out) != size:
        sys.exit(f"cannot build a body of {size} bytes (smallest is {len(body(model, ''))})")
    sys.stdout.write(out)


if __name__ == "__main__":
    main()
