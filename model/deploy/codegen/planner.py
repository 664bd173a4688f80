"""The static memory plan: every activation tensor, and each kernel's scratch buffer during its
call, gets an offset in one arena, placed greedily over tensor lifetimes (largest first, lowest
free offset). RESHAPE outputs share their input's storage; the model's input and output are the
caller's buffers."""

from __future__ import annotations

from model.deploy.codegen.lowering import Lowering

ARENA_ALIGN = 8


def _align(n: int) -> int:
    return -(-n // ARENA_ALIGN) * ARENA_ALIGN


def lifetimes(g: Lowering, kernels: str) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """First and last step using each stored tensor (by alias root) or scratch buffer (key -1 -
    step index), and their sizes in bytes."""
    external = {g.root(i) for i in (*g.m.inputs, *g.m.outputs)}
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for step_index, step in enumerate(g.steps):
        for t in (g.root(step.input), g.root(step.output)):
            first.setdefault(t, step_index)
            last[t] = step_index
            if t not in external:
                sizes[t] = g.m.tensors[t].nbytes
        if kernels in step.scratch:
            key = -1 - step_index
            first[key] = last[key] = step_index
            sizes[key] = step.scratch[kernels]
    return first, last, sizes


def plan(g: Lowering, kernels: str) -> tuple[dict[int, int], int]:
    """Arena offset of every stored tensor and scratch buffer for one kernel set, and the arena size."""
    first, last, sizes = lifetimes(g, kernels)
    offsets: dict[int, int] = {}
    for t in sorted(sizes, key=lambda t: (-sizes[t], first[t])):
        live = [u for u in offsets if first[u] <= last[t] and first[t] <= last[u]]
        offset = 0
        for start, end in sorted((offsets[u], offsets[u] + sizes[u]) for u in live):
            if offset + sizes[t] <= start:
                break
            offset = max(offset, _align(end))
        offsets[t] = offset
    arena = max((offsets[t] + sizes[t] for t in offsets), default=0)
    return offsets, _align(arena)
