// What `asyncio-ts ps` and `pstree` print, from hand-made snapshots: the table, the
// awaited-by tree in Python's pstree layout (task groups between a task and the tasks it runs
// in them), cycles reported instead of a tree, several loops, empty processes, and snapshots
// with missing or odd fields.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AwaitCycleError,
  type LoopSnapshot,
  type TaskSnapshot,
  type TasksSnapshot,
  findCycles,
  formatCycles,
  formatTable,
  formatTree,
  readSnapshot,
} from "../../src/cli/format.js";

function task(id: number, name: string, fields: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return {
    id,
    name,
    state: "pending",
    current: false,
    awaiting: [],
    awaitingTasks: [],
    awaitedBy: [],
    parent: null,
    group: null,
    createdAt: null,
    stack: [],
    suspendedAt: null,
    ...fields,
  };
}

function loop(tasks: TaskSnapshot[], fields: Partial<LoopSnapshot> = {}): LoopSnapshot {
  return { id: 1, running: true, closed: false, debug: false, time: 12.5, tasks, ...fields };
}

function snapshot(...loops: LoopSnapshot[]): TasksSnapshot {
  return { pid: 4242, version: "0.1.0", loops };
}

const GROUP = { id: 1, repr: "<TaskGroup tasks=2 entered>" };
const TASK_REPR = "<Task pending name='fetch' coro=fetch>";

/**
 * main (1) runs a task group with fetch (2) and worker (3); worker awaits fetch; fetch waits
 * on a lock; main also gathers helper (4).
 */
function server(): TasksSnapshot {
  return snapshot(
    loop([
      task(1, "main", { awaiting: ["<_GatheringFuture pending>"], awaitingTasks: [4] }),
      task(2, "fetch", {
        awaiting: ["<Lock [locked, waiters:1]>"],
        awaitedBy: [1, 3],
        parent: 1,
        group: GROUP,
        stack: ["acquire (lock.ts:10:3)", "fetch (app.ts:20:5)"],
      }),
      task(3, "worker", { awaiting: [TASK_REPR], awaitingTasks: [2], awaitedBy: [1], parent: 1, group: GROUP }),
      task(4, "helper", { awaiting: ["<Future pending>"], awaitedBy: [1], parent: 1 }),
    ]),
  );
}

describe("ps table", () => {
  it("has one row a task, with state, awaits, awaiters, parent and task group", () => {
    const lines = formatTable([server()]).split("\n");
    assert.match(lines[0] as string, /^loop +task id +task name +state +awaits +awaited by +parent +task group$/);
    assert.match(lines[1] as string, /^-+$/);
    assert.equal((lines[1] as string).length, Math.max(...lines.filter((_, i) => i !== 1).map((l) => l.length)));
    assert.equal(lines.length, 6);
    const row = (id: number): string[] => (lines.find((l) => l.split(/ {2,}/)[1] === String(id)) as string).split(/ {2,}/);
    assert.deepEqual(row(2), ["1", "2", "fetch", "pending", "<Lock [locked, waiters:1]>", "1, 3", "1", "<TaskGroup tasks=2 entered> (group 1)"]);
    assert.deepEqual(row(3), ["1", "3", "worker", "pending", TASK_REPR, "1", "1", "<TaskGroup tasks=2 entered> (group 1)"]);
    assert.deepEqual(row(1), ["1", "1", "main", "pending", "<_GatheringFuture pending>"]);
  });

  it("lines the columns up", () => {
    const lines = formatTable([server()]).split("\n");
    const header = lines[0] as string;
    for (const column of ["task name", "awaits", "task group"]) {
      const at = header.indexOf(column);
      for (const line of lines.slice(2).filter((l) => l.length > at)) {
        assert.equal(line[at - 1], " ", `column ${column} of ${JSON.stringify(line)}`);
        assert.notEqual(line[at], " ", `column ${column} of ${JSON.stringify(line)}`);
      }
    }
  });

  it("shows the task the snapshot was taken in as running, and ends long awaits with …", () => {
    const long = `<Future pending ${"x".repeat(200)}>`;
    const text = formatTable([snapshot(loop([task(1, "main", { current: true, awaiting: [long] })]))]);
    const row = text.split("\n")[2] as string;
    assert.match(row, / running /);
    assert.match(row, /x…$/);
    assert.equal(row.length < 120, true);
  });

  it("says when no loop runs, and which loops have no tasks", () => {
    assert.match(formatTable([snapshot()]), /\nno event loop is running$/);
    assert.match(formatTable([snapshot(loop([]))]), /\nloop 1: no tasks$/);
  });

  it("names the loops of several copies of the library by copy and loop", () => {
    const text = formatTable([server(), snapshot(loop([task(1, "other")], { id: 1 }))]);
    const loops = text.split("\n").slice(2).map((line) => line.split(/ {2,}/)[0]);
    assert.deepEqual(loops, ["1:1", "1:1", "1:1", "1:1", "2:1"]);
  });
});

describe("pstree", () => {
  it("puts a task group between the task running it and its tasks, and a task under each of its awaiters", () => {
    assert.equal(
      formatTree([server()]),
      [
        "└── (T) main (1) awaiting <_GatheringFuture pending>",
        "    ├── (G) <TaskGroup tasks=2 entered> (group 1)",
        "    │   ├── (T) fetch (2) awaiting <Lock [locked, waiters:1]>",
        "    │   │   └── fetch (app.ts:20:5)",
        "    │   │       └── acquire (lock.ts:10:3)",
        "    │   └── (T) worker (3)",
        "    │       └── (T) fetch (2) awaiting <Lock [locked, waiters:1]>",
        "    │           └── fetch (app.ts:20:5)",
        "    │               └── acquire (lock.ts:10:3)",
        "    └── (T) helper (4) awaiting <Future pending>",
      ].join("\n"),
    );
  });

  it("hangs the tasks a task awaits under its innermost frame", () => {
    const text = formatTree([
      snapshot(
        loop([
          task(1, "main", { awaitingTasks: [2], awaiting: ["<Task pending name='child'>"], stack: ["inner (a.ts:2:1)", "outer (a.ts:9:1)"] }),
          task(2, "child", { awaitedBy: [1] }),
        ]),
      ),
    ]);
    assert.equal(
      text,
      ["└── (T) main (1)", "    └── outer (a.ts:9:1)", "        └── inner (a.ts:2:1)", "            └── (T) child (2)"].join("\n"),
    );
  });

  it("makes every task nobody awaits a root, and a group nobody runs a root above its tasks", () => {
    const text = formatTree([
      snapshot(
        loop([
          task(5, "b"),
          task(2, "a"),
          task(7, "m1", { group: { id: 3, repr: "<TaskGroup tasks=2>" } }),
          task(8, "m2", { group: { id: 3, repr: "<TaskGroup tasks=2>" } }),
        ]),
      ),
    ]);
    assert.equal(
      text,
      ["└── (T) a (2)", "└── (T) b (5)", "└── (G) <TaskGroup tasks=2> (group 3)", "    ├── (T) m1 (7)", "    └── (T) m2 (8)"].join("\n"),
    );
  });

  it("uses the edges of either side: awaitingTasks alone, or awaitedBy alone", () => {
    const one = formatTree([snapshot(loop([task(1, "p", { awaitingTasks: [2] }), task(2, "c")]))]);
    const other = formatTree([snapshot(loop([task(1, "p"), task(2, "c", { awaitedBy: [1] })]))]);
    assert.equal(one, "└── (T) p (1)\n    └── (T) c (2)");
    assert.equal(other, one);
  });

  it("keeps the reprs of awaited tasks it cannot match to children, and marks running and finished tasks", () => {
    const text = formatTree([
      snapshot(
        loop([
          task(1, "main", { current: true, awaiting: ["<Task pending name='gone'>"] }),
          task(2, "done", { state: "cancelled" }),
        ]),
      ),
    ]);
    assert.equal(text, "└── (T) main (1) [running] awaiting <Task pending name='gone'>\n└── (T) done (2) [cancelled]");
  });

  it("reports cycles instead of a tree, as Python's pstree does", () => {
    const looped = snapshot(
      loop([
        task(1, "main", { awaitingTasks: [2] }),
        task(2, "ping", { awaitingTasks: [3], awaitedBy: [1, 3] }),
        task(3, "pong", { awaitingTasks: [2], awaitedBy: [2] }),
      ]),
    );
    assert.throws(
      () => formatTree([looped]),
      (error: unknown) => {
        assert.ok(error instanceof AwaitCycleError);
        assert.deepEqual(error.cycles, ["ping (2) → pong (3) → ping (2)"]);
        assert.equal(
          formatCycles(error),
          "ERROR: await-graph contains cycles - cannot print a tree!\n\ncycle: ping (2) → pong (3) → ping (2)",
        );
        return true;
      },
    );
  });

  it("finds a task awaiting itself and cycles of any length, and none in a diamond", () => {
    assert.deepEqual(findCycles([task(1, "self", { awaitingTasks: [1] })]), ["self (1) → self (1)"]);
    const ring = Array.from({ length: 5 }, (_, i) => task(i + 1, `t${i + 1}`, { awaitingTasks: [((i + 1) % 5) + 1] }));
    assert.deepEqual(findCycles(ring), ["t1 (1) → t2 (2) → t3 (3) → t4 (4) → t5 (5) → t1 (1)"]);
    const diamond = [
      task(1, "top", { awaitingTasks: [2, 3] }),
      task(2, "left", { awaitingTasks: [4] }),
      task(3, "right", { awaitingTasks: [4] }),
      task(4, "bottom"),
    ];
    assert.deepEqual(findCycles(diamond), []);
    assert.equal(formatTree([snapshot(loop(diamond))]).split("\n").filter((l) => l.includes("bottom (4)")).length, 2);
  });

  it("follows a chain of 20,000 awaits without overflowing the stack when looking for cycles", () => {
    const chain = Array.from({ length: 20_000 }, (_, i) => task(i + 1, `t${i + 1}`, { awaitingTasks: i + 1 < 20_000 ? [i + 2] : [] }));
    assert.deepEqual(findCycles(chain), []);
  });

  it("heads each loop's tree when there are several loops, and says when there are none or no tasks", () => {
    const text = formatTree([
      snapshot(loop([task(1, "a")]), loop([], { id: 2, running: false })),
      snapshot(loop([task(1, "b")])),
    ]);
    assert.equal(
      text,
      [
        "loop 1:1 (asyncio-ts 0.1.0)",
        "└── (T) a (1)",
        "",
        "loop 1:2 (not running) (asyncio-ts 0.1.0)",
        "no tasks",
        "",
        "loop 2:1 (asyncio-ts 0.1.0)",
        "└── (T) b (1)",
      ].join("\n"),
    );
    assert.equal(formatTree([snapshot()]), "no event loop is running");
    assert.equal(formatTree([snapshot(loop([]))]), "no tasks");
  });

  it("ignores edges to tasks that are not in the snapshot", () => {
    const text = formatTree([snapshot(loop([task(1, "a", { awaitedBy: [99], awaitingTasks: [98] })]))]);
    assert.equal(text, "└── (T) a (1)");
  });
});

describe("reading a snapshot", () => {
  it("keeps a well-formed snapshot as it is", () => {
    const good = server();
    assert.deepEqual(readSnapshot(JSON.parse(JSON.stringify(good))), good);
  });

  it("tolerates missing and odd fields", () => {
    const read = readSnapshot({
      loops: [
        {
          tasks: [
            { id: 3, awaiting: ["<Lock>", 7, null], awaitedBy: ["x", 1], state: "weird", group: { repr: "no id" } },
            null,
            { name: 5, stack: "not a list", group: { id: 2 } },
          ],
        },
        "not a loop",
      ],
    });
    assert.equal(read.version, "unknown");
    assert.equal(read.loops.length, 2);
    const [first, second] = read.loops as [LoopSnapshot, LoopSnapshot];
    assert.deepEqual(first.tasks[0], task(3, "Task-3", { awaiting: ["<Lock>"], awaitedBy: [1] }));
    assert.equal(first.tasks[1]?.id, -2);
    assert.deepEqual(first.tasks[2], task(-3, "Task--3", { group: { id: 2, repr: "<TaskGroup>" } }));
    assert.deepEqual(second, { id: 2, running: false, closed: false, debug: false, time: 0, tasks: [] });
    assert.deepEqual(readSnapshot("garbage"), { pid: 0, version: "unknown", loops: [] });
    // What was read can be printed.
    assert.match(formatTree([read]), /\(G\) <TaskGroup> \(group 2\)\n {4}└── \(T\) Task--3 \(-3\)/);
  });
});
