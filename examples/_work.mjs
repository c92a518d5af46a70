// Job code for process_pool.ts and scale_out.ts: plain JavaScript with no imports, so that a
// worker thread (which gets no TypeScript loader on Node 20), a child process and a remote
// worker can all import it.

/** The n-th Fibonacci number, the slow way: CPU work. */
export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** x squared. */
export function square(x) {
  return x * x;
}
