/**
 * What `asyncio-ts ps` and `asyncio-ts pstree` print, from the task snapshots read out of a
 * process: pure functions of the snapshots, so they are tested on hand-made ones.
 *
 * `ps` is a table, one row a task. `pstree` is the awaited-by tree in the layout of Python's
 * `python -m asyncio pstree`: the roots are the tasks nobody awaits; below a task, the frames
 * of its stack (outermost first, when the snapshot has them) and, under the innermost, the
 * tasks that it awaits; a task group stands between the task running it and the group's tasks.
 * A task awaited by several tasks appears under each. A cycle of awaits has no root, so no tree
 * can show it: it is reported instead ({@link AwaitCycleError}).
 */

import type { LoopSnapshot, TaskSnapshot, TasksSnapshot } from "../debug/snapshot.js";

// The shapes are the library's own (a type-only import: the command loads none of it).
export type { LoopSnapshot, TaskSnapshot, TasksSnapshot };

// ---------------------------------------------------------------- reading a snapshot

type Loose = Record<string, unknown>;

function record(value: unknown): Loose {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Loose) : {};
}

function num(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function str(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}

function list<T>(value: unknown, keep: (item: unknown) => item is T): T[] {
  return Array.isArray(value) ? value.filter(keep) : [];
}

const isNumber = (item: unknown): item is number => typeof item === "number" && Number.isFinite(item);
const isString = (item: unknown): item is string => typeof item === "string";

/**
 * Reads a snapshot as parsed from JSON, tolerating missing or odd fields (the library may
 * have been in the middle of its own code, or be another version): what is missing gets a
 * neutral value, entries of the wrong type are dropped.
 */
export function readSnapshot(raw: unknown): TasksSnapshot {
  const top = record(raw);
  return {
    pid: num(top.pid, 0),
    version: str(top.version, "unknown"),
    loops: (Array.isArray(top.loops) ? top.loops : []).map((loop, i) => readLoop(loop, i + 1)),
  };
}

function readLoop(raw: unknown, index: number): LoopSnapshot {
  const loop = record(raw);
  return {
    id: num(loop.id, index),
    running: loop.running === true,
    closed: loop.closed === true,
    debug: loop.debug === true,
    time: num(loop.time, 0),
    tasks: (Array.isArray(loop.tasks) ? loop.tasks : []).map((task, i) => readTask(task, -(i + 1))),
  };
}

function readTask(raw: unknown, fallbackId: number): TaskSnapshot {
  const task = record(raw);
  const id = num(task.id, fallbackId);
  const state = task.state === "finished" || task.state === "cancelled" ? task.state : "pending";
  const group = record(task.group);
  return {
    id,
    name: str(task.name, `Task-${id}`),
    state,
    current: task.current === true,
    awaiting: list(task.awaiting, isString),
    awaitingTasks: list(task.awaitingTasks, isNumber),
    awaitedBy: list(task.awaitedBy, isNumber),
    parent: isNumber(task.parent) ? task.parent : null,
    group: isNumber(group.id) ? { id: group.id, repr: str(group.repr, "<TaskGroup>") } : null,
    createdAt: typeof task.createdAt === "string" ? task.createdAt : null,
    stack: list(task.stack, isString),
    suspendedAt: typeof task.suspendedAt === "string" ? task.suspendedAt : null,
  };
}

// ---------------------------------------------------------------- ps: the table

/** The longest "awaits" cell; longer ones end in "…" (`--json` has them whole). */
const AWAITS_WIDTH = 72;

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** What a loop is called: its id, prefixed with the copy of the library when there are several. */
function loopLabel(snapshots: readonly TasksSnapshot[], copy: number, loop: LoopSnapshot): string {
  return snapshots.length > 1 ? `${copy + 1}:${loop.id}` : String(loop.id);
}

/** A task's state as shown: `running` for the task the snapshot was taken in. */
function shownState(task: TaskSnapshot): string {
  return task.current && task.state === "pending" ? "running" : task.state;
}

/**
 * The `ps` table: one row a task (loop, task id, name, state, what it awaits, the ids of the
 * tasks awaiting it, the task that created it, its task group), columns as wide as their
 * contents, then a line per loop that has no task or a note when no loop runs.
 */
export function formatTable(snapshots: readonly TasksSnapshot[]): string {
  const header = ["loop", "task id", "task name", "state", "awaits", "awaited by", "parent", "task group"];
  const rows: string[][] = [];
  const notes: string[] = [];
  snapshots.forEach((snapshot, copy) => {
    for (const loop of snapshot.loops) {
      const label = loopLabel(snapshots, copy, loop);
      if (loop.tasks.length === 0) notes.push(`loop ${label}: no tasks`);
      for (const task of [...loop.tasks].sort((a, b) => a.id - b.id)) {
        rows.push([
          label,
          String(task.id),
          task.name,
          shownState(task),
          clip(task.awaiting.join(", "), AWAITS_WIDTH),
          task.awaitedBy.join(", "),
          task.parent === null ? "" : String(task.parent),
          task.group === null ? "" : `${task.group.repr} (group ${task.group.id})`,
        ]);
      }
    }
  });
  if (snapshots.every((s) => s.loops.length === 0)) notes.push("no event loop is running");
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i] as number)).join("  ").trimEnd();
  const total = widths.reduce((sum, w) => sum + w, 0) + 2 * (widths.length - 1);
  return [line(header), "-".repeat(total), ...rows.map(line), ...notes].join("\n");
}

// ---------------------------------------------------------------- pstree: the tree

/** The awaits of a loop form a cycle: no tree can show it. */
export class AwaitCycleError extends Error {
  override name = "AwaitCycleError";
  /** Each cycle as the labels of its tasks, `a (1) → b (2) → a (1)`, the first repeated last. */
  readonly cycles: string[];

  constructor(cycles: string[]) {
    super(`the await graph has ${cycles.length === 1 ? "a cycle" : `${cycles.length} cycles`}: ${cycles.join("; ")}`);
    this.cycles = cycles;
  }
}

type Node =
  | { kind: "task"; task: TaskSnapshot }
  | { kind: "group"; id: number; repr: string }
  | { kind: "frame"; text: string };

/** The tree of one loop: its nodes, their children, and its roots, in the order shown. */
interface Tree {
  nodes: Map<string, Node>;
  children: Map<string, string[]>;
  roots: string[];
}

const taskKey = (id: number): string => `t${id}`;
const groupKey = (id: number): string => `g${id}`;

/** `name (id)`: how a task is named in the tree and in cycles. */
function taskName(task: TaskSnapshot): string {
  return `${task.name} (${task.id})`;
}

/**
 * The task's awaits that the tree does not show as children: the reprs of awaited tasks are
 * left out when there are exactly as many of them as awaited task ids.
 */
function otherAwaits(task: TaskSnapshot): string[] {
  const tasks = task.awaiting.filter((repr) => repr.startsWith("<Task "));
  if (task.awaitingTasks.length > 0 && tasks.length === task.awaitingTasks.length) {
    return task.awaiting.filter((repr) => !repr.startsWith("<Task "));
  }
  return task.awaiting;
}

function label(node: Node): string {
  if (node.kind === "frame") return node.text;
  if (node.kind === "group") return `(G) ${node.repr} (group ${node.id})`;
  const { task } = node;
  const flags: string[] = [];
  if (task.current && task.state === "pending") flags.push("running");
  if (task.state !== "pending") flags.push(task.state);
  const awaits = otherAwaits(task);
  return (
    `(T) ${taskName(task)}` +
    (flags.length > 0 ? ` [${flags.join(", ")}]` : "") +
    (awaits.length > 0 ? ` awaiting ${awaits.join(", ")}` : "")
  );
}

/** Who awaits each task of the loop (both directions of the snapshot's edges, within the loop). */
function awaitersOf(tasks: readonly TaskSnapshot[]): Map<number, Set<number>> {
  const ids = new Set(tasks.map((t) => t.id));
  const awaiters = new Map<number, Set<number>>(tasks.map((t) => [t.id, new Set<number>()]));
  for (const task of tasks) {
    for (const by of task.awaitedBy) if (ids.has(by) && by !== task.id) awaiters.get(task.id)?.add(by);
    for (const awaited of task.awaitingTasks) if (ids.has(awaited) && awaited !== task.id) awaiters.get(awaited)?.add(task.id);
  }
  return awaiters;
}

/** The cycles of the await graph of a loop (tasks only), each as the labels around it. */
export function findCycles(tasks: readonly TaskSnapshot[]): string[] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const awaits = new Map<number, number[]>(tasks.map((t) => [t.id, []]));
  for (const [awaited, awaiters] of awaitersOf(tasks)) {
    for (const awaiter of awaiters) awaits.get(awaiter)?.push(awaited);
  }
  for (const edges of awaits.values()) edges.sort((a, b) => a - b);
  // Also a task that awaits itself.
  const selfAwaiting = tasks.filter((t) => t.awaitingTasks.includes(t.id) || t.awaitedBy.includes(t.id));
  const cycles: number[][] = selfAwaiting.map((t) => [t.id, t.id]);
  const color = new Map<number, "grey" | "black">();
  const path: number[] = [];
  // Iterative depth-first search: a long chain of awaits must not overflow the stack.
  for (const start of [...awaits.keys()].sort((a, b) => a - b)) {
    if (color.has(start)) continue;
    const stack: { id: number; next: number }[] = [{ id: start, next: 0 }];
    color.set(start, "grey");
    path.push(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { id: number; next: number };
      const edges = awaits.get(top.id) as number[];
      if (top.next < edges.length) {
        const to = edges[top.next++] as number;
        const seen = color.get(to);
        if (seen === undefined) {
          color.set(to, "grey");
          path.push(to);
          stack.push({ id: to, next: 0 });
        } else if (seen === "grey") {
          cycles.push([...path.slice(path.indexOf(to)), to]);
        }
      } else {
        color.set(top.id, "black");
        path.pop();
        stack.pop();
      }
    }
  }
  return cycles.map((ids) => ids.map((id) => taskName(byId.get(id) as TaskSnapshot)).join(" → "));
}

/** Builds the tree of one loop (its awaits have no cycle). */
function buildTree(tasks: readonly TaskSnapshot[]): Tree {
  const nodes = new Map<string, Node>();
  const children = new Map<string, string[]>();
  /** Where the children of a node hang: a task's innermost frame, else the node itself. */
  const anchor = new Map<string, string>();
  const order = new Map<string, number>();
  const add = (parent: string, child: string): void => {
    const at = anchor.get(parent) ?? parent;
    const kids = children.get(at) ?? [];
    if (!kids.includes(child)) kids.push(child);
    children.set(at, kids);
  };

  const sorted = [...tasks].sort((a, b) => a.id - b.id);
  for (const task of sorted) {
    const key = taskKey(task.id);
    nodes.set(key, { kind: "task", task });
    order.set(key, task.id);
    // The stack under the task, outermost frame first; the tasks it awaits under the innermost.
    let at = key;
    [...task.stack].reverse().forEach((text, i) => {
      const frame = `${key}/f${i}`;
      nodes.set(frame, { kind: "frame", text });
      children.set(at, [...(children.get(at) ?? []), frame]);
      at = frame;
    });
    anchor.set(key, at);
  }

  // Groups: their members, and the tasks awaiting every member (the task running the group).
  const members = new Map<number, TaskSnapshot[]>();
  for (const task of sorted) {
    if (task.group === null) continue;
    const key = groupKey(task.group.id);
    if (!nodes.has(key)) {
      nodes.set(key, { kind: "group", id: task.group.id, repr: task.group.repr });
      order.set(key, task.id);
    }
    members.set(task.group.id, [...(members.get(task.group.id) ?? []), task]);
  }
  const awaiters = awaitersOf(tasks);
  const owners = new Map<number, Set<number>>();
  for (const [groupId, group] of members) {
    const [first, ...rest] = group as [TaskSnapshot, ...TaskSnapshot[]];
    const common = new Set(awaiters.get(first.id));
    for (const member of rest) {
      const by = awaiters.get(member.id);
      for (const id of common) if (by?.has(id) !== true) common.delete(id);
    }
    owners.set(groupId, common);
  }

  const hasParent = new Set<string>();
  for (const task of sorted) {
    const key = taskKey(task.id);
    const by = [...(awaiters.get(task.id) ?? [])].sort((a, b) => a - b);
    const group = task.group;
    if (group !== null) {
      const gKey = groupKey(group.id);
      add(gKey, key);
      hasParent.add(key);
      for (const owner of owners.get(group.id) ?? []) {
        add(taskKey(owner), gKey);
        hasParent.add(gKey);
      }
    }
    for (const awaiter of by) {
      if (group !== null && owners.get(group.id)?.has(awaiter)) continue;
      add(taskKey(awaiter), key);
      hasParent.add(key);
    }
  }
  const byOrder = (a: string, b: string): number =>
    (order.get(a) ?? 0) - (order.get(b) ?? 0) || (nodes.get(a)?.kind === "group" ? -1 : 1);
  for (const kids of children.values()) {
    kids.sort((a, b) => {
      const fa = nodes.get(a)?.kind === "frame";
      const fb = nodes.get(b)?.kind === "frame";
      return fa !== fb ? (fa ? -1 : 1) : byOrder(a, b);
    });
  }
  const roots = [...nodes.keys()].filter((key) => nodes.get(key)?.kind !== "frame" && !hasParent.has(key)).sort(byOrder);
  return { nodes, children, roots };
}

function render(tree: Tree, key: string, prefix: string, last: boolean, out: string[]): void {
  out.push(`${prefix}${last ? "└── " : "├── "}${label(tree.nodes.get(key) as Node)}`);
  const kids = tree.children.get(key) ?? [];
  const inner = prefix + (last ? "    " : "│   ");
  kids.forEach((kid, i) => render(tree, kid, inner, i === kids.length - 1, out));
}

/**
 * The `pstree` text: per loop, the awaited-by tree. With several loops (or copies of the
 * library), each tree is headed by its loop. Throws {@link AwaitCycleError} when the awaits of
 * a loop form a cycle.
 */
export function formatTree(snapshots: readonly TasksSnapshot[]): string {
  const loops = snapshots.flatMap((snapshot, copy) =>
    snapshot.loops.map((loop) => ({ loop, label: loopLabel(snapshots, copy, loop), version: snapshot.version })),
  );
  const cycles = loops.flatMap(({ loop }) => findCycles(loop.tasks));
  if (cycles.length > 0) throw new AwaitCycleError(cycles);
  if (loops.length === 0) return "no event loop is running";
  const out: string[] = [];
  for (const { loop, label, version } of loops) {
    if (loops.length > 1) {
      if (out.length > 0) out.push("");
      out.push(`loop ${label}${loop.running ? "" : " (not running)"} (asyncio-ts ${version})`);
    }
    if (loop.tasks.length === 0) {
      out.push("no tasks");
      continue;
    }
    const tree = buildTree(loop.tasks);
    for (const root of tree.roots) render(tree, root, "", true, out);
  }
  return out.join("\n");
}

/** How `pstree` reports cycles (on stderr), in the layout Python's pstree uses. */
export function formatCycles(error: AwaitCycleError): string {
  return [
    "ERROR: await-graph contains cycles - cannot print a tree!",
    "",
    ...error.cycles.map((cycle) => `cycle: ${cycle}`),
  ].join("\n");
}
