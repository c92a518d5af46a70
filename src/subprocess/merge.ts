/**
 * @internal `stderr: STDOUT` with `stdout: PIPE`: one channel that the child's fd 1 and fd 2
 * both write to, so this process reads one stream with the two interleaved in the order the
 * child wrote them.
 *
 * WHY not a pipe: Node cannot make an anonymous pipe (there is no `os.pipe()`), and its
 * `spawn` cannot point one child fd at another child fd (`stdio: [.., "pipe", 1]` means *this*
 * process's fd 1). What `spawn` can do is give the child a duplicate of a stream this process
 * holds, at any index. So we make a connected pair of Unix-domain sockets (a local server in a
 * fresh private directory, one connection to it, then the server and its directory are
 * removed), give the client end to the child as both its fd 1 and fd 2, close our copy of the
 * client end, and read the server end. The child's writes to fd 1 and fd 2 land in one socket
 * buffer, in order; EOF comes when every copy of the client end is closed (the child and
 * anything that inherited them exited). On Windows the pair is made on a named pipe.
 *
 * The child sees a socket rather than a pipe as its stdout/stderr; programs that ask
 * (`isatty`, `fstat`) see "not a terminal", as with a pipe.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventLoop } from "../events/loop.js";
import { _runOutsideFrame } from "../events/running.js";
import type { Future } from "../futures.js";
import { outsideFrame } from "../transports/util.js";

/** The two ends: `reader` stays here, `writer` is given to the child. */
export interface SharedChannel {
  reader: net.Socket;
  writer: net.Socket;
}

let counter = 0;

/**
 * Makes the connected pair. The returned future is cancellable: cancelled before the pair is
 * ready, whatever was made is closed.
 */
export function makeSharedChannel(loop: EventLoop): Future<SharedChannel> {
  const future = loop.createFuture<SharedChannel>();
  let dir: string | null = null;
  let path: string;
  if (process.platform === "win32") {
    path = `\\\\.\\pipe\\asyncio-ts-${process.pid}-${++counter}-${Math.random().toString(36).slice(2)}`;
  } else {
    dir = mkdtempSync(join(tmpdir(), "asyncio-ts-"));
    path = join(dir, "stdout");
  }
  const server = net.createServer();
  let client: net.Socket | null = null;
  let accepted: net.Socket | null = null;
  let connected = false;
  const cleanupServer = (): void => {
    server.close();
    if (dir !== null) {
      rmSync(dir, { recursive: true, force: true });
      dir = null;
    }
  };
  const fail = outsideFrame((error: Error): void => {
    cleanupServer();
    client?.destroy();
    accepted?.destroy();
    if (!future.done()) future.setException(error);
  });
  const maybeDone = (): void => {
    if (client === null || accepted === null || !connected) return;
    cleanupServer();
    if (future.done()) {
      // Cancelled meanwhile: nobody will use the pair.
      client.destroy();
      accepted.destroy();
      return;
    }
    client.removeListener("error", fail);
    accepted.removeListener("error", fail);
    future.setResult({ reader: accepted, writer: client });
  };
  server.on("error", fail);
  server.once(
    "connection",
    outsideFrame((socket: net.Socket) => {
      accepted = socket;
      socket.on("error", fail);
      maybeDone();
    }),
  );
  server.listen(path, () =>
    _runOutsideFrame((): void => {
      if (future.done()) {
        cleanupServer();
        return;
      }
      const socket = net.connect({ path });
      client = socket;
      socket.on("error", fail);
      socket.once(
        "connect",
        outsideFrame(() => {
          connected = true;
          maybeDone();
        }),
      );
    }),
  );
  return future;
}
