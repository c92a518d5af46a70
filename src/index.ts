/**
 * asyncio-ts: Python's asyncio for TypeScript on Node.js.
 *
 * Everything asyncio exports from `asyncio` is exported here, loop-level names included.
 * Test helpers (virtual clock) live in `asyncio-ts/testing`.
 *
 * @module asyncio-ts
 */

// Errors
export {
  BrokenBarrierError,
  BrokenProcessPool,
  CancelledError,
  type ErrorMatcher,
  ExceptionGroup,
  IncompleteReadError,
  InvalidStateError,
  KeyboardInterrupt,
  LimitOverrunError,
  LookupError,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  RetryError,
  RuntimeError,
  SignalInterrupt,
  TimeoutError,
  cancellationOf,
  isCancellation,
  isCancelledError,
  isTimeoutError,
} from "./errors.js";

// The event loop
export type { Clock } from "./events/clock.js";
export { Handle, TimerHandle } from "./events/handles.js";
export {
  EventLoop,
  type EventLoopOptions,
  type ExceptionContext,
  type ExceptionHandler,
  type Executor,
  type TaskFactory,
  newEventLoop,
} from "./events/loop.js";
export { type Frame, getRunningLoop } from "./events/running.js";

// Coroutines, futures and tasks
export { Coroutine, coroutine, isCoroutine, isCoroutineFunction } from "./coroutines.js";
export { type Chained, Future, type FutureOptions, type FutureState, isFuture } from "./futures.js";
export {
  type Awaitable,
  type AwaitableResult,
  Task,
  type TaskOptions,
  type Thunk,
  allTasks,
  createEagerTaskFactory,
  createTask,
  currentTask,
  eagerTaskFactory,
  ensureFuture,
  sleep,
} from "./tasks.js";

// Combinators
export {
  type AsCompleted,
  type AsCompletedItem,
  type AsCompletedOptions,
  asCompleted,
} from "./combinators/as-completed.js";
export {
  type GatherOptions,
  type GatherResults,
  type GatherSettled,
  GatheringFuture,
  gather,
  gatherAll,
} from "./combinators/gather.js";
export { any, race } from "./combinators/race.js";
export { shield } from "./combinators/shield.js";
export { waitFor } from "./combinators/wait-for.js";
export {
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type ReturnWhen,
  type WaitItem,
  type WaitOptions,
  type WaitResult,
  wait,
} from "./combinators/wait.js";

// Timeouts and task groups
export {
  Timeout,
  currentEffectiveDeadline,
  moveOnAfter,
  moveOnAt,
  timeout,
  timeoutAt,
} from "./timeouts.js";
export { TaskGroup, type TaskStatus, taskGroup } from "./taskgroups.js";

// Retrying
export { type BackoffOptions, type RetryOptions, retry } from "./retry.js";

// Callbacks of Node resources as tasks
export { type TaskPerCallOptions, taskPerCall } from "./callbacks.js";

// Context
export {
  Context,
  ContextVar,
  type ContextVarOptions,
  Token,
  copyContext,
} from "./context.js";

// Running
export { type RunOptions, Runner, run } from "./runners.js";
export type { TraceOptions } from "./debug/tracing.js";

// Introspection (src/debug/): the call graph, and the snapshot `asyncio-ts ps` reads
export {
  type CallGraphOptions,
  FrameCallGraphEntry,
  FutureCallGraph,
  type PrintCallGraphOptions,
  captureCallGraph,
  formatCallGraph,
  futureAddToAwaitedBy,
  futureDiscardFromAwaitedBy,
  printCallGraph,
} from "./debug/graph.js";
export type { LoopSnapshot, TaskSnapshot, TasksSnapshot } from "./debug/snapshot.js";
// Loaded for their effect: the snapshot `asyncio-ts ps` reads, the stall report of debug mode.
import "./debug/blocked.js";

// Synchronisation primitives (src/locks/)
export { Barrier } from "./locks/barrier.js";
export { CapacityLimiter } from "./locks/capacity-limiter.js";
export { Condition } from "./locks/condition.js";
export { Event } from "./locks/event.js";
export { Lock } from "./locks/lock.js";
export { type Acquirable, type Held } from "./locks/mixins.js";
export { RateLimiter, type RateLimiterOptions } from "./locks/rate-limiter.js";
export { BoundedSemaphore, Semaphore } from "./locks/semaphore.js";

// Queues (src/queues.ts)
export { LifoQueue, PriorityQueue, type PriorityQueueOptions, Queue } from "./queues.js";

// The loop methods that live outside `events/loop.ts` (`loop.createConnection`…,
// `loop.subprocessExec`…): these side-effect imports install them on `EventLoop.prototype`, and,
// kept as they are in `dist/index.d.ts`, bring their declaration merging (`declare module`) into
// the types every user of the package sees. Without them a module reached only through an
// import the declarations drop (a value used inside a function) would take its methods with it,
// as `loop.subprocessExec` once was. scripts/check-package.mjs type-checks both against the
// packed package.
import "./transports/loop-methods.js";
import "./subprocess/loop-methods.js";

// Streams, transports and protocols (src/streams/, src/transports/)
export { type ClientConnectedCallback, StreamReaderProtocol } from "./streams/protocol.js";
export { type Separator, StreamReader, type StreamReaderOptions } from "./streams/reader.js";
export {
  type OpenConnectionOptions,
  type OpenUnixConnectionOptions,
  type StartServerOptions,
  type StartUnixServerOptions,
  type StreamLimitOption,
  openConnection,
  openUnixConnection,
  startServer,
  startUnixServer,
} from "./streams/streams.js";
export { type StreamStartTlsOptions, StreamWriter, type StreamWriterProtocol } from "./streams/writer.js";
export {
  type ConnectAcceptedSocketOptions,
  type CreateConnectionOptions,
  type CreateDatagramEndpointOptions,
  type CreateServerOptions,
  type CreateUnixConnectionOptions,
  type CreateUnixServerOptions,
  type SslOption,
  type StartTlsOptions,
} from "./transports/loop-methods.js";
export {
  BaseProtocol,
  BufferedProtocol,
  type DatagramAddress,
  DatagramProtocol,
  Protocol,
  SubprocessProtocol,
} from "./transports/protocols.js";
export { Server } from "./transports/server.js";
export {
  BaseTransport,
  DatagramTransport,
  type ExtraInfo,
  ReadTransport,
  SubprocessTransport,
  Transport,
  type WriteData,
  WriteTransport,
} from "./transports/transports.js";
export type { SocketAddress, TransportSocket } from "./transports/trsock.js";

// Subprocesses (src/subprocess/)
export { DEVNULL, PIPE, STDOUT, type StderrOption, type StdioOption } from "./subprocess/constants.js";
export { createSubprocessExec, createSubprocessShell } from "./subprocess/create.js";
export type {
  CreateSubprocessExecOptions,
  CreateSubprocessShellOptions,
  ProcessOptions,
  SubprocessOptions,
  SubprocessShellOptions,
} from "./subprocess/options.js";
export { Process } from "./subprocess/process.js";

// Processes (src/processes/)
export { ProcessPoolExecutor, type ProcessPoolExecutorOptions } from "./processes/pool.js";

// Threads (src/threads/)
export { ConcurrentFuture, type ConcurrentFutureState } from "./threads/concurrent-future.js";
export {
  type ShutdownOptions,
  ThreadPoolExecutor,
  type ThreadPoolExecutorOptions,
} from "./threads/executor.js";
export {
  type ModuleFunction,
  type ModuleFunctionInfo,
  moduleFunction,
} from "./threads/module-function.js";
export { runCoroutineThreadsafe } from "./threads/threadsafe.js";
export { toThread } from "./threads/to-thread.js";
