// Reads before writes. A request is handled as soon as the event loop reads its socket, and the
// loop reads every socket that is ready in one go: a LIST page that arrived with a few dozen node
// heartbeats (Lease and status updates) waited behind all of them, each one's decode, admission,
// validation and encoding run to its store write before the page got its turn (at 5,000 nodes,
// turns of 10-36 ms, measured with `npm run bench -- scale --page-timeline`). A write now starts
// in the loop's check phase (setImmediate), after the socket reads of its turn, so reads that
// arrived with it are served first; and the writes of one check phase stop after `budgetMs`, the
// rest going on in the next turn, after the reads that arrived meanwhile. A write waits for a turn
// of the loop at most as long as the writes ahead of it take, which it would have waited anyway.

export class WriteTurns {
  /** performance.now() when the first write of the current check phase started; -1 = none yet. */
  private turnStart = -1;

  constructor(private readonly budgetMs = 2) {}

  /** Resolves when a write may start: after this turn's reads, within the turn's budget. */
  wait(): Promise<void> {
    return new Promise((resolve) => setImmediate(() => this.go(resolve)));
  }

  private go(resolve: () => void): void {
    const now = performance.now();
    if (this.turnStart < 0) {
      this.turnStart = now;
      // Queued during this check phase, so it runs first in the next one: a new turn's budget.
      setImmediate(() => (this.turnStart = -1));
    } else if (now - this.turnStart >= this.budgetMs) {
      // Over the budget (each write's own work ran in the microtasks after its immediate): the
      // next turn, behind the reset above and ahead of writes that arrive meanwhile.
      setImmediate(() => this.go(resolve));
      return;
    }
    resolve();
  }
}
