// A task waits for an Event; the main task sets it a second later.
import { Event, createTask, run, sleep } from "../src/index.js";

async function listener(event: Event): Promise<void> {
  console.log("Waiting for event");
  await event.wait();
  console.log("Event processed");
}

async function main(): Promise<void> {
  const myEvent = new Event();

  // Spawn a task to wait until the event is set.
  const handler = createTask(() => listener(myEvent));

  // Sleep for 1 second and set the event.
  await sleep(1);
  myEvent.set();

  // Wait until processing is complete.
  await handler;
}

await run(main);

// Expected output:
// Waiting for event
// Event processed
