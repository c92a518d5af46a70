// Backpressure with a bounded queue: a fast producer and a slow consumer. With maxsize 3, the
// producer runs at most three items ahead; then `await queue.put()` waits until the consumer
// takes one. shutdown() ends the consumer's `for await` loop once the queue is drained.
import { Queue, createTask, run, sleep } from "../src/index.js";

async function main(): Promise<void> {
  const queue = new Queue<number>(3);

  const producer = createTask(async () => {
    for (let item = 1; item <= 6; item++) {
      if (queue.full()) console.log(`producer: queue full, waiting to put ${item}`);
      await queue.put(item); // waits while the queue is full: backpressure
      console.log(`producer: put ${item} (size=${queue.qsize()})`);
      await sleep(0.01); // producing is fast
    }
    queue.shutdown(); // no more items: the consumer's loop ends once the queue is empty
    console.log("producer: done");
  });

  for await (const item of queue) {
    await sleep(0.1); // consuming is slow
    console.log(`consumer: handled ${item}`);
  }
  await producer;
  console.log("consumer: queue shut down and drained");
}

await run(main);

// Expected output:
// producer: put 1 (size=1)
// producer: put 2 (size=1)
// producer: put 3 (size=2)
// producer: put 4 (size=3)
// producer: queue full, waiting to put 5
// consumer: handled 1
// producer: put 5 (size=3)
// producer: queue full, waiting to put 6
// consumer: handled 2
// producer: put 6 (size=3)
// producer: done
// consumer: handled 3
// consumer: handled 4
// consumer: handled 5
// consumer: handled 6
// consumer: queue shut down and drained
