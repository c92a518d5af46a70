// StreamReader on its own, fed by hand. Ported from CPython's
// Lib/test/test_asyncio/test_streams.py (StreamTests); each test names its original.
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { describe, it } from "node:test";
import {
  CancelledError,
  IncompleteReadError,
  LimitOverrunError,
  RuntimeError,
  StreamReader,
  createTask,
  getRunningLoop,
  run,
  sleep,
} from "../../src/index.js";
import { errorOf } from "./support.js";

const DATA = Buffer.from("line1\nline2\nline3\n");
const b = (s: string): Buffer => Buffer.from(s);

/** Feeds `chunks` from a loop callback, as a transport would. */
function feedSoon(reader: StreamReader, ...chunks: (string | null)[]): void {
  getRunningLoop().callSoon(() => {
    for (const c of chunks) {
      if (c === null) reader.feedEof();
      else reader.feedData(c);
    }
  });
}

/** What is still buffered, read without waiting. */
async function rest(reader: StreamReader): Promise<Buffer> {
  const n = reader.bufferedSize;
  return n === 0 ? Buffer.alloc(0) : reader.readexactly(n);
}

describe("StreamReader", () => {
  // CPython: test_feed_empty_data, test_feed_nonempty_data
  it("keeps fed data, and ignores empty chunks", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData(Buffer.alloc(0));
      assert.equal(reader.bufferedSize, 0);
      reader.feedData(DATA);
      assert.deepEqual(await rest(reader), DATA);
    });
  });

  // CPython: test_read_zero
  it("read(0) returns an empty buffer and leaves the buffer alone", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData(DATA);
      assert.deepEqual(await reader.read(0), Buffer.alloc(0));
      assert.deepEqual(await rest(reader), DATA);
    });
  });

  // CPython: test_read
  it("read(n) waits for data and returns what arrived, up to n", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const task = createTask(() => reader.read(30));
      feedSoon(reader, DATA.toString());
      assert.deepEqual(await task, DATA);
      assert.equal(reader.bufferedSize, 0);
    });
  });

  // CPython: test_read_line_breaks
  it("read(n) takes n bytes across chunks and leaves the rest", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData("line1");
      reader.feedData("line2");
      assert.deepEqual(await reader.read(5), b("line1"));
      assert.deepEqual(await rest(reader), b("line2"));
    });
  });

  // CPython: test_read_eof
  it("read(n) returns an empty buffer at EOF", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const task = createTask(() => reader.read(1024));
      feedSoon(reader, null);
      assert.deepEqual(await task, Buffer.alloc(0));
    });
  });

  // CPython: test_read_until_eof
  it("read() with no size reads until EOF", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const task = createTask(() => reader.read());
      feedSoon(reader, "chunk1\n", "chunk2", null);
      assert.deepEqual(await task, b("chunk1\nchunk2"));
      assert.equal(reader.bufferedSize, 0);
    });
  });

  // CPython: test_read_exception
  it("read() raises the exception set on the reader", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData("line\n");
      assert.deepEqual(await reader.read(2), b("li"));
      const error = new RangeError("boom");
      reader.setException(error);
      assert.equal(await errorOf(reader.read(2)), error);
    });
  });

  // CPython: test_invalid_limit
  it("refuses a limit <= 0", () => {
    assert.throws(() => new StreamReader({ limit: 0 }), { name: "RangeError", message: /imit/ });
    assert.throws(() => new StreamReader({ limit: -1 }), { name: "RangeError", message: /imit/ });
  });

  // CPython: test_read_limit
  it("read(n) is not bound by the limit", async () => {
    await run(async () => {
      const reader = new StreamReader({ limit: 3 });
      reader.feedData("chunk");
      assert.deepEqual(await reader.read(5), b("chunk"));
    });
  });

  // CPython: test_readline
  it("readline waits until the line is complete and leaves what follows", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData("chunk1 ");
      const task = createTask(() => reader.readline());
      feedSoon(reader, "chunk2 ", "chunk3 ", "\n chunk4");
      assert.deepEqual(await task, b("chunk1 chunk2 chunk3 \n"));
      assert.deepEqual(await rest(reader), b(" chunk4"));
    });
  });

  // CPython: test_readline_limit_with_existing_data
  it("readline over the limit discards the line (found) or the whole buffer (not found)", async () => {
    await run(async () => {
      let reader = new StreamReader({ limit: 3 });
      reader.feedData("li");
      reader.feedData("ne1\nline2\n");
      assert.equal((await errorOf(reader.readline()) as Error).name, "RangeError");
      assert.deepEqual(await rest(reader), b("line2\n"));

      reader = new StreamReader({ limit: 3 });
      reader.feedData("li");
      reader.feedData("ne1");
      reader.feedData("li");
      assert.equal((await errorOf(reader.readline()) as Error).name, "RangeError");
      assert.equal(reader.bufferedSize, 0);
    });
  });

  // CPython: test_at_eof
  it("atEof() is true only after EOF once the buffer is empty", async () => {
    await run(async () => {
      const reader = new StreamReader();
      assert.equal(reader.atEof(), false);
      reader.feedData("some data\n");
      assert.equal(reader.atEof(), false);
      await reader.readline();
      assert.equal(reader.atEof(), false);
      reader.feedData("some data\n");
      reader.feedEof();
      await reader.readline();
      assert.equal(reader.atEof(), true);
    });
  });

  // CPython: test_readline_limit
  it("readline enforces the limit strictly: a line of exactly the limit passes", async () => {
    await run(async () => {
      let reader = new StreamReader({ limit: 7 });
      feedSoon(reader, "chunk1", "chunk2", "chunk3\n", null);
      assert.equal((await errorOf(reader.readline()) as Error).name, "RangeError");
      assert.equal(reader.bufferedSize, 0);

      reader = new StreamReader({ limit: 7 });
      feedSoon(reader, "chunk1", "chunk2\n", "chunk3\n", null);
      assert.equal((await errorOf(reader.readline()) as Error).name, "RangeError");
      assert.deepEqual(await rest(reader), b("chunk3\n"));

      reader = new StreamReader({ limit: 7 });
      reader.feedData("1234567\n");
      assert.deepEqual(await reader.readline(), b("1234567\n"));
      reader.feedData("12345678\n");
      assert.equal((await errorOf(reader.readline()) as Error).name, "RangeError");
      assert.equal(reader.bufferedSize, 0);
      reader.feedData("12345678");
      assert.equal((await errorOf(reader.readline()) as Error).name, "RangeError");
      assert.equal(reader.bufferedSize, 0);
    });
  });

  // CPython: test_readline_nolimit_nowait, test_readline_read_byte_count
  it("readline returns a buffered line at once; reads go on after it", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData(DATA.subarray(0, 6));
      reader.feedData(DATA.subarray(6));
      assert.deepEqual(await reader.readline(), b("line1\n"));
      assert.deepEqual(await reader.read(7), b("line2\nl"));
      assert.deepEqual(await rest(reader), b("ine3\n"));
    });
  });

  // CPython: test_readline_eof, test_readline_empty_eof
  it("readline returns the partial last line at EOF, then empty buffers", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData("some data");
      reader.feedEof();
      assert.deepEqual(await reader.readline(), b("some data"));
      assert.deepEqual(await reader.readline(), Buffer.alloc(0));
    });
  });

  // CPython: test_readline_exception
  it("readline raises the reader's exception", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData("line\n");
      assert.deepEqual(await reader.readline(), b("line\n"));
      const error = new Error("broken");
      reader.setException(error);
      assert.equal(await errorOf(reader.readline()), error);
    });
  });

  // CPython: test_readuntil_separator
  it("readuntil refuses an empty separator, and an empty list", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const empty = (await errorOf(reader.readuntil(""))) as Error;
      assert.equal(empty.name, "RangeError");
      assert.match(empty.message, /Separator should be at least one-byte string/);
      const none = (await errorOf(reader.readuntil([]))) as Error;
      assert.match(none.message, /Separator should contain at least one element/);
      assert.equal(((await errorOf(reader.readuntil(42 as never))) as Error).name, "TypeError");
    });
  });

  // CPython: test_readuntil_multi_chunks, test_readuntil_multi_chunks_1
  it("readuntil finds a separator that spans chunks", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData("lineAAA");
      assert.deepEqual(await reader.readuntil("AAA"), b("lineAAA"));
      reader.feedData("lineAAAxxx");
      assert.deepEqual(await reader.readuntil(b("AAA")), b("lineAAA"));
      assert.deepEqual(await rest(reader), b("xxx"));

      for (const chunks of [["QWEaa", "XYaa", "a"], ["QWEaa", "XYa", "aa"]]) {
        for (const c of chunks) reader.feedData(c);
        assert.deepEqual(await reader.readuntil("aaa"), b("QWEaaXYaaa"));
      }
      reader.feedData("XXX");
      const task = createTask(() => reader.readuntil("aaa"));
      feedSoon(reader, "a", "a", "a");
      assert.deepEqual(await task, b("XXXaaa"));
      assert.equal(reader.bufferedSize, 0);
    });
  });

  // CPython: test_readuntil_eof
  it("readuntil at EOF raises IncompleteReadError with the rest and an empty buffer", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData("some dataAA");
      reader.feedEof();
      const error = (await errorOf(reader.readuntil("AAA"))) as IncompleteReadError;
      assert.ok(error instanceof IncompleteReadError);
      assert.match(error.message, /undefined expected bytes/);
      assert.deepEqual(error.partial, b("some dataAA"));
      assert.equal(error.expected, null);
      assert.equal(reader.bufferedSize, 0);
    });
  });

  // CPython: test_readuntil_limit_found_sep
  it("readuntil over the limit raises LimitOverrunError and keeps the data", async () => {
    await run(async () => {
      const reader = new StreamReader({ limit: 3 });
      reader.feedData("some dataAA");
      const notFound = (await errorOf(reader.readuntil("AAA"))) as LimitOverrunError;
      assert.ok(notFound instanceof LimitOverrunError);
      assert.match(notFound.message, /not found/);
      assert.equal(reader.bufferedSize, 11);
      reader.feedData("A");
      const found = (await errorOf(reader.readuntil("AAA"))) as LimitOverrunError;
      assert.match(found.message, /is found/);
      assert.equal(found.consumed, 9);
      assert.deepEqual(await rest(reader), b("some dataAAA"));
    });
  });

  // CPython: test_readuntil_multi_separator
  it("readuntil with several separators returns the shortest match", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData("line 1\nline 2\r");
      assert.deepEqual(await reader.readuntil(["\r", "\n"]), b("line 1\n"));
      assert.deepEqual(await reader.readuntil([b("\r"), b("\n")]), b("line 2\r"));
      reader.feedData("ABCDEFG");
      assert.deepEqual(await reader.readuntil(["DEF", "BCDE"]), b("ABCDE"));
      assert.deepEqual(await rest(reader), b("FG"));
    });
  });

  // CPython: test_readuntil_multi_separator_limit
  it("readuntil with several separators checks the limit against the match", async () => {
    await run(async () => {
      const reader = new StreamReader({ limit: 3 });
      reader.feedData("some dataA");
      const error = (await errorOf(reader.readuntil(["A", "ome dataA"]))) as Error;
      assert.match(error.message, /is found/);
      assert.equal(reader.bufferedSize, 10);
    });
  });

  // CPython: test_readuntil_multi_separator_negative_offset
  it("readuntil keeps its search offset non-negative with separators of mixed lengths", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData("data");
      const task = createTask(() => reader.readuntil(["A", "long sep"]));
      feedSoon(reader, "Z");
      getRunningLoop().callSoon(() => reader.feedData("Aaaa"));
      assert.deepEqual(await task, b("dataZA"));
      assert.deepEqual(await rest(reader), b("aaa"));
    });
  });

  // CPython: test_readuntil_bytearray
  it("readuntil takes a Uint8Array separator", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData("some data\r\n");
      assert.deepEqual(await reader.readuntil(new Uint8Array([13, 10])), b("some data\r\n"));
    });
  });

  // CPython: test_readexactly_zero_or_less
  it("readexactly(0) is empty; a negative size is a RangeError that leaves the buffer", async () => {
    await run(async () => {
      const reader = new StreamReader();
      reader.feedData(DATA);
      assert.deepEqual(await reader.readexactly(0), Buffer.alloc(0));
      const error = (await errorOf(reader.readexactly(-1))) as Error;
      assert.equal(error.name, "RangeError");
      assert.match(error.message, /less than zero/);
      assert.deepEqual(await rest(reader), DATA);
    });
  });

  // CPython: test_readexactly, test_readexactly_limit
  it("readexactly waits for exactly n bytes, beyond the limit too", async () => {
    await run(async () => {
      const reader = new StreamReader({ limit: 3 });
      const n = 2 * DATA.length;
      const task = createTask(() => reader.readexactly(n));
      feedSoon(reader, DATA.toString(), DATA.toString(), DATA.toString());
      assert.deepEqual(await task, Buffer.concat([DATA, DATA]));
      assert.deepEqual(await rest(reader), DATA);
    });
  });

  // CPython: test_readexactly_eof
  it("readexactly at EOF raises IncompleteReadError with CPython's message", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const n = 2 * DATA.length;
      const task = createTask(() => reader.readexactly(n));
      feedSoon(reader, DATA.toString(), null);
      const error = (await errorOf(task)) as IncompleteReadError;
      assert.deepEqual(error.partial, DATA);
      assert.equal(error.expected, n);
      assert.equal(error.message, "18 bytes read on a total of 36 expected bytes");
      assert.equal(reader.bufferedSize, 0);
    });
  });

  // CPython: test_readexactly_exception, test_exception
  it("exception() is null until setException(); then reads raise it", async () => {
    await run(async () => {
      const reader = new StreamReader();
      assert.equal(reader.exception(), null);
      reader.feedData("line\n");
      assert.deepEqual(await reader.readexactly(2), b("li"));
      const error = new Error("x");
      reader.setException(error);
      assert.equal(reader.exception(), error);
      assert.equal(await errorOf(reader.readexactly(2)), error);
    });
  });

  // CPython: test_exception_waiter
  it("setException wakes a waiting read with the error", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const task = createTask(() => reader.readline());
      await sleep(0);
      const error = new Error("gone");
      reader.setException(error);
      assert.equal(await errorOf(task), error);
    });
  });

  // CPython: test_exception_cancel
  it("setException after the waiting read was cancelled is harmless", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const task = createTask(() => reader.readline());
      await sleep(0);
      task.cancel();
      await sleep(0);
      reader.setException(new RuntimeError("message"));
      await sleep(0);
      assert.ok(task.cancelled());
    });
  });

  it("a second read while one waits is a RuntimeError", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const first = createTask(() => reader.read(2));
      await sleep(0);
      const error = (await errorOf(reader.readline())) as Error;
      assert.ok(error instanceof RuntimeError);
      assert.match(error.message, /readline\(\) called while another coroutine is already waiting/);
      assert.ok((await errorOf(reader.read(100))) instanceof RuntimeError);
      reader.feedData("okay");
      assert.deepEqual(await first, b("ok"));
    });
  });

  it("a read cancelled while waiting leaves the bytes that arrived for the next read", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const task = createTask(() => reader.readexactly(10));
      await sleep(0);
      reader.feedData("12345");
      task.cancel();
      assert.ok((await errorOf(task)) instanceof CancelledError);
      reader.feedData("67890");
      assert.deepEqual(await reader.readexactly(10), b("1234567890"));
    });
  });

  it("a read woken and then cancelled before it resumed gives its bytes back", async () => {
    await run(async () => {
      const reader = new StreamReader();
      const task = createTask(() => reader.readline());
      await sleep(0);
      // The line completes the read (its waiter is woken with the bytes) and the task is
      // cancelled in the same callback, before it could resume.
      getRunningLoop().callSoon(() => {
        reader.feedData("first line\nsecond");
        task.cancel();
      });
      assert.ok((await errorOf(task)) instanceof CancelledError);
      assert.deepEqual(await reader.readline(), b("first line\n"));
      reader.feedEof();
      assert.deepEqual(await reader.readline(), b("second"));
    });
  });

  it("bad sizes and data are TypeErrors naming the argument", async () => {
    await run(async () => {
      const reader = new StreamReader();
      assert.match(((await errorOf(reader.read(1.5))) as Error).message, /`n` must be an integer/);
      assert.throws(() => reader.feedData(42 as never), TypeError);
      reader.feedEof();
      assert.throws(() => reader.feedData("late"), RuntimeError);
    });
  });

  it("iterates over lines with for await until EOF", async () => {
    await run(async () => {
      const reader = new StreamReader();
      feedSoon(reader, "a\nb", "b\nc", null);
      const lines: string[] = [];
      for await (const line of reader) lines.push(line.toString());
      assert.deepEqual(lines, ["a\n", "bb\n", "c"]);
    });
  });

  it("pauses its transport above twice the limit and resumes it as it drains", async () => {
    await run(async () => {
      const calls: string[] = [];
      const reader = new StreamReader({ limit: 4 });
      reader.setTransport({ pauseReading: () => calls.push("pause"), resumeReading: () => calls.push("resume") });
      reader.feedData("123456789");
      assert.deepEqual(calls, ["pause"]);
      await reader.read(3);
      assert.deepEqual(calls, ["pause"]);
      await reader.read(3);
      assert.deepEqual(calls, ["pause", "resume"]);
    });
  });

  // CPython: test___repr__, test___repr__nondefault_limit, test___repr__eof,
  // test___repr__data, test___repr__exception, test___repr__waiter
  it("prints its state as asyncio does", async () => {
    await run(async () => {
      assert.equal(String(new StreamReader()), "<StreamReader>");
      assert.equal(inspect(new StreamReader({ limit: 123 })), "<StreamReader limit=123>");
      const eof = new StreamReader();
      eof.feedEof();
      assert.equal(String(eof), "<StreamReader eof>");
      const data = new StreamReader();
      data.feedData("data");
      assert.equal(String(data), "<StreamReader 4 bytes>");
      const failed = new StreamReader();
      failed.setException(new RuntimeError());
      assert.equal(String(failed), "<StreamReader exception=RuntimeError()>");
      const waiting = new StreamReader();
      const task = createTask(() => waiting.read(1));
      await sleep(0);
      assert.match(String(waiting), /^<StreamReader waiter=<Future pending/);
      task.cancel();
      await sleep(0);
    });
  });
});
