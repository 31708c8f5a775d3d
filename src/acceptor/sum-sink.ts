/**
 * A command on several keys answered with the sum of its per-key integer
 * replies (EXISTS k1 k2 …: the keys live on different shards). Each key is
 * sent to its shard as the one-key command; this sink adds up their
 * answers and hands the total to the real sink once all have come. Only
 * multi-key EXISTS uses it, so its object per command is off the GET path.
 */
import type { Dispatcher } from './dispatcher.js';
import { ENCODED_ANSWER, type Sink } from './sink.js';

const INTEGER = /^:(-?\d+)\r\n$/;

/** See the file comment. */
export class SumSink implements Sink {
  readonly protocol: number;
  readonly #target: Sink;
  readonly #token: unknown;
  #left: number;
  #sum = 0;
  /** The first failure (a negative `Outcome`) or error reply among the answers; it is the answer. */
  #failed: number | Buffer | undefined;

  /** Sends `args[0]` on each key of `args[1, argc)`; `target.answer(token, …)` gets the sum. */
  constructor(
    dispatcher: Dispatcher,
    shardOf: (key: string) => number,
    args: readonly string[],
    argc: number,
    target: Sink,
    token: unknown,
  ) {
    this.protocol = target.protocol;
    this.#target = target;
    this.#token = token;
    this.#left = argc - 1;
    const one = [args[0]!, ''];
    for (let i = 1; i < argc; i++) {
      one[1] = args[i]!;
      dispatcher.submitCommand(shardOf(args[i]!), args[i]!, one, 2, this, i, 0);
    }
  }

  answer(_token: unknown, _flags: number, code: number, value: Buffer | undefined): void {
    if (code < 0) this.#failed ??= code;
    else {
      const n = INTEGER.exec(value!.latin1Slice(0, value!.length));
      if (n === null) this.#failed ??= Buffer.from(value!);
      else this.#sum += Number(n[1]);
    }
    if (--this.#left > 0) return;
    const failed = this.#failed;
    if (typeof failed === 'number') return this.#target.answer(this.#token, 0, failed, undefined, 0, undefined, -1);
    const reply = failed ?? Buffer.from(`:${this.#sum}\r\n`, 'latin1');
    this.#target.answer(this.#token, ENCODED_ANSWER, reply.length, reply, 0, undefined, -1);
  }

  /** Nothing of an answer is kept: the integer is read at once. */
  released(): boolean {
    return true;
  }
}
