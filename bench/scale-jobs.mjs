// The job of the scale-out bench (bench/scale.ts): plain JavaScript with no imports, so worker
// threads, child processes and BullMQ workers all import the same function.

/** a + b: a job whose own cost is nothing, so the executor's cost is what is measured. */
export function add(a, b) {
  return a + b;
}
