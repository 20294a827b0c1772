#!/usr/bin/env python3
"""The layer check: folders form layers, includes only go down, the folder graph has no cycle.

    scripts/check-layers.py [ROOT]        check; exit 1 listing FILE:LINE of every offending include
                                          (and of every CMake link from a folder's library upward)
    scripts/check-layers.py --print       print the layer order (docs/development.md points here)
    scripts/check-layers.py --graph       print the folder include graph (edge: count, one example)

Registered as the ctest `layers.check`. LAYERS below is the one place the order is written down.
"""

import pathlib
import re
import sys

# Bottom to top. A file may include from its own folder or from a folder in a LOWER entry;
# folders that share an entry are siblings and may not include each other.
LAYERS = [
    ["base"],  # net.hpp (Asio/Beast aliases), utf8: no project includes
    ["policies"],  # routing decisions as pure code
    ["gateway/config"],
    ["gateway/trace"],  # RequestTrace: the one record of a request
    ["gateway/http", "gateway/ui"],  # wire-format helpers; the playground's static files
    ["gateway/completion"],  # the chat-completion wire format: requests, chunks, whole answers
    ["gateway/metrics"],
    ["gateway/log"],
    ["gateway/upstream"],
    ["gateway/exchange"],  # what handlers receive: Exchange, ClientResponse, HandlerDeps
    ["gateway/shadow"],  # shadow comparisons: below chat, whose flows reach it through AnswerHooks
    ["gateway/chat"],  # /v1/chat/completions: the flows over the seam, forward, the handler
    ["gateway/api", "gateway/admin"],  # the other handlers (pass-through endpoints reuse forward)
    # Apps: the daemon's sessions and route table; llm-sim and `eval` beside it, on lower layers.
    ["gateway/server", "gateway/sim", "evaluation"],
    ["gateway"],  # gateway/main.cpp: the executable that links everything
]

# Where the layered sources live (tests and benchmarks sit outside the layers).
SOURCE_ROOTS = ["base", "policies", "evaluation", "gateway"]
SOURCE_SUFFIXES = {".hpp", ".cpp", ".h", ".inl"}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def folder_of(path):
    """The layer folder of a repo-relative path: gateway/X for gateway/X/..., else the top one."""
    parts = pathlib.PurePosixPath(path).parts
    if not parts or parts[0] not in SOURCE_ROOTS:
        return None
    if parts[0] == "gateway" and len(parts) > 2:
        return "gateway/" + parts[1]
    return parts[0]


def rank_table():
    rank = {}
    for level, folders in enumerate(LAYERS):
        for folder in folders:
            rank[folder] = level
    return rank


def scan(root):
    """Yields (file, line, folder, included path, included folder) for every cross-folder include."""
    for top in SOURCE_ROOTS:
        base = root / top
        if not base.is_dir():
            continue
        for file in sorted(base.rglob("*")):
            if file.suffix not in SOURCE_SUFFIXES or not file.is_file():
                continue
            rel = file.relative_to(root).as_posix()
            src = folder_of(rel)
            with open(file, encoding="utf-8", errors="replace") as f:
                for lineno, text in enumerate(f, 1):
                    m = INCLUDE.match(text)
                    if not m:
                        continue
                    dst = folder_of(m.group(1))
                    if dst is not None and dst != src:
                        yield rel, lineno, src, m.group(1), dst


LIBRARY = re.compile(r"gw_folder_library\(\s*(\S+)(.*?)\)", re.S)
LINK = re.compile(r"target_link_libraries\(\s*(\S+)(.*?)\)", re.S)


def scan_links(root):
    """Yields (CMakeLists path, line, folder, library, linked library) for the folders' libraries."""
    library_folder, links = {}, []
    for top in SOURCE_ROOTS:
        for lists in sorted((root / top).rglob("CMakeLists.txt")):
            folder = folder_of(lists.relative_to(root).as_posix())
            text = lists.read_text(encoding="utf-8", errors="replace")
            for m in LIBRARY.finditer(text):
                library_folder[m.group(1)] = folder
            for m in list(LIBRARY.finditer(text)) + list(LINK.finditer(text)):
                lineno = text.count("\n", 0, m.start()) + 1
                for dep in m.group(2).split():
                    links.append((lists.relative_to(root).as_posix(), lineno, m.group(1), dep))
    for rel, lineno, lib, dep in links:
        if lib in library_folder and dep in library_folder:
            yield rel, lineno, library_folder[lib], lib, dep, library_folder[dep]


def find_cycles(edges):
    """Strongly connected components with more than one folder (Tarjan, iterative)."""
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index, low, on_stack, stack, sccs = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    sccs.append(sorted(component))
    return sccs


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    root = pathlib.Path(args[0] if args else pathlib.Path(__file__).resolve().parent.parent)
    if "--print" in argv:
        for level, folders in enumerate(LAYERS):
            print(f"{level:2d}  {'  '.join(folders)}")
        return 0

    rank = rank_table()
    includes = list(scan(root))
    edges = {}
    for rel, lineno, src, inc, dst in includes:
        edges.setdefault((src, dst), []).append((rel, lineno, inc))

    if "--graph" in argv:
        for (src, dst), sites in sorted(edges.items()):
            rel, lineno, inc = sites[0]
            print(f"{src} -> {dst}  ({len(sites)}; e.g. {rel}:{lineno} {inc})")
        return 0

    problems = 0
    unplaced = set()
    for rel, lineno, src, inc, dst in includes:
        missing = [f for f in (src, dst) if f not in rank]
        if missing:
            for folder in missing:
                if folder not in unplaced:
                    unplaced.add(folder)
                    print(f'{rel}:{lineno}: #include "{inc}": folder {folder} is not in '
                          f"LAYERS (scripts/check-layers.py); give it a layer")
                    problems += 1
        else:
            if rank[dst] > rank[src]:
                print(f'{rel}:{lineno}: #include "{inc}": {src} (layer {rank[src]}) '
                      f"includes {dst} (layer {rank[dst]}), a higher layer")
                problems += 1
            elif rank[dst] == rank[src]:
                print(f'{rel}:{lineno}: #include "{inc}": {src} includes its sibling {dst} '
                      f"(both layer {rank[src]})")
                problems += 1

    for rel, lineno, src, lib, dep, dst in scan_links(root):
        if src in rank and dst in rank and rank[dst] >= rank[src] and src != dst:
            print(f"{rel}:{lineno}: {lib} ({src}, layer {rank[src]}) links {dep} ({dst}, "
                  f"layer {rank[dst]}): a library links only lower layers")
            problems += 1

    for component in find_cycles(edges):
        problems += 1
        print(f"cycle between folders: {' <-> '.join(component)}")
        members = set(component)
        for (src, dst), sites in sorted(edges.items()):
            if src in members and dst in members:
                rel, lineno, inc = sites[0]
                print(f'  {src} -> {dst}: {rel}:{lineno}: #include "{inc}"'
                      + (f" (+{len(sites) - 1} more)" if len(sites) > 1 else ""))

    if problems:
        print(f"layers: {problems} problem(s); the order is LAYERS in scripts/check-layers.py "
              "(`scripts/check-layers.py --print`)")
        return 1
    print(f"layers: {len(includes)} cross-folder includes, all downward; no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
