// Loads a Ruleset into the kernel with one `iptables-restore --noflush` per sync, touching only
// our own chains: a chain is declared (which flushes it) and refilled only when its rules differ
// from what was last written; chains no longer wanted are flushed and deleted in the same batch.
// Other software's rules and chains are never flushed.
//
// A verifying sync first reads the tables back (iptables-save) and also rewrites every chain whose
// rule count differs from what we wrote or that is missing, deletes leftover MZ- chains (from an
// earlier run), and puts our jumps back at the top of the built-in chains: that is how rules
// removed by hand come back. After a failed restore the next sync is a verifying one that rewrites
// everything (iptables-restore commits per table, so a failure may leave one table written).

import { PREFIX, type BuiltinJump, type Chains, type Ruleset } from '../rules/chains.ts';
import type { Exec } from './exec.ts';

export interface TableState {
  /** Our chains (MZ-…) → rule count. */
  chains: Map<string, number>;
  /** Built-in chain → its rules as iptables-save prints them (`-A CHAIN …`). */
  builtins: Map<string, string[]>;
}

export type Table = 'nat' | 'filter';
const TABLES: Table[] = ['nat', 'filter'];

export function parseSave(text: string): Map<Table, TableState> {
  const out = new Map<Table, TableState>();
  let cur: TableState | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      const t = line.slice(1).trim();
      cur = t === 'nat' || t === 'filter' ? { chains: new Map(), builtins: new Map() } : undefined;
      if (cur) out.set(t as Table, cur);
    } else if (!cur) continue;
    else if (line.startsWith(':')) {
      const name = line.slice(1, line.indexOf(' '));
      if (name.startsWith(PREFIX)) cur.chains.set(name, 0);
      else cur.builtins.set(name, []);
    } else if (line.startsWith('-A ')) {
      const sp = line.indexOf(' ', 3);
      const chain = line.slice(3, sp);
      const n = cur.chains.get(chain);
      if (n !== undefined) cur.chains.set(chain, n + 1);
      else cur.builtins.get(chain)?.push(line);
    }
  }
  return out;
}

function sameRules(a: string[] | undefined, b: string[]): boolean {
  if (a === b) return true; // the renderer re-uses the arrays of unchanged chains
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const jumpTarget = (rule: string) => / -j (MZ-[A-Z0-9-]+)/.exec(` ${rule}`)?.[1];

export interface WriteStats {
  /** Chains declared and filled in this sync. */
  written: number;
  deleted: number;
  /** Lines handed to iptables-restore. */
  lines: number;
  verified: boolean;
}

export class RuleWriter {
  private written: Ruleset | undefined;
  private needFull = true;

  constructor(
    private readonly exec: Exec,
    private readonly jumps: BuiltinJump[],
    private readonly cmds = { restore: 'iptables-restore', save: 'iptables-save' },
  ) {}

  /** Force the next write to read the kernel's state back (hand edits, a failed restore). */
  invalidate(): void {
    this.needFull = true;
  }

  async readState(): Promise<Map<Table, TableState>> {
    const { stdout } = await this.exec([this.cmds.save]);
    return parseSave(stdout);
  }

  /** The restore input for `desired` (undefined when nothing needs writing). Exposed for tests. */
  plan(desired: Ruleset, state?: Map<Table, TableState>): { payload: string; stats: WriteStats } | undefined {
    const full = this.needFull;
    const stats: WriteStats = { written: 0, deleted: 0, lines: 0, verified: !!state };
    const parts: string[] = [];
    for (const table of TABLES) {
      const want: Chains = desired[table];
      const had: Chains | undefined = full ? undefined : this.written?.[table];
      // A table nobody has used yet is absent from iptables-save's output: it is empty.
      const live = state ? (state.get(table) ?? { chains: new Map(), builtins: new Map() }) : undefined;
      const declare: string[] = [];
      const rules: string[] = [];
      const fix: string[] = [];
      const drop: string[] = [];
      for (const [chain, lines] of want) {
        const stale = !sameRules(had?.get(chain), lines) || (live !== undefined && live.chains.get(chain) !== lines.length);
        if (!stale) continue;
        declare.push(`:${chain} - [0:0]`);
        for (const l of lines) rules.push(`-A ${chain} ${l}`);
        stats.written++;
      }
      const gone = new Set<string>();
      if (live) for (const c of live.chains.keys()) if (!want.has(c)) gone.add(c);
      if (had) for (const c of had.keys()) if (!want.has(c) && (!live || live.chains.has(c))) gone.add(c);
      for (const c of gone) {
        declare.push(`:${c} - [0:0]`);
        drop.push(`-X ${c}`);
        stats.deleted++;
      }
      if (live) fix.push(...this.jumpFixes(table, live));
      if (declare.length + fix.length === 0) continue;
      parts.push(`*${table}`, ...declare, ...rules, ...fix, ...drop, 'COMMIT');
    }
    if (parts.length === 0) return undefined;
    stats.lines = parts.length;
    return { payload: parts.join('\n') + '\n', stats };
  }

  /** Delete-and-reinsert our jumps in a built-in chain unless they are all there, in order, on top. */
  private jumpFixes(table: Table, live: TableState): string[] {
    const out: string[] = [];
    const byChain = new Map<string, string[]>();
    for (const j of this.jumps) if (j.table === table) byChain.set(j.chain, [...(byChain.get(j.chain) ?? []), j.rule]);
    for (const [chain, wanted] of byChain) {
      const existing = live.builtins.get(chain) ?? [];
      const ours = existing.map((l, i) => ({ l, i, t: jumpTarget(l) })).filter((x) => x.t);
      const inPlace =
        ours.length === wanted.length && ours.every((x, k) => x.i === k && x.t === jumpTarget(wanted[k]!) && sameComment(x.l, wanted[k]!));
      if (inPlace) continue;
      for (const x of ours) out.push(`-D ${chain} ${x.l.slice(`-A ${chain} `.length)}`);
      wanted.forEach((r, k) => out.push(`-I ${chain} ${k + 1} ${r}`));
    }
    return out;
  }

  /** Write `desired`; `verify` reads the kernel's tables first (periodic check, first sync). */
  async write(desired: Ruleset, opts: { verify?: boolean } = {}): Promise<WriteStats> {
    const verify = opts.verify || this.needFull;
    const state = verify ? await this.readState() : undefined;
    const plan = this.plan(desired, state);
    if (!plan) {
      this.written = snapshot(desired);
      this.needFull = false;
      return { written: 0, deleted: 0, lines: 0, verified: verify };
    }
    try {
      await this.exec([this.cmds.restore, '--noflush', '-w', '5'], plan.payload);
    } catch (e) {
      this.needFull = true;
      throw e;
    }
    this.written = snapshot(desired);
    this.needFull = false;
    return plan.stats;
  }

  /** Remove every MZ- chain and our jumps from the built-in chains (`--cleanup`). */
  async cleanup(): Promise<number> {
    const state = await this.readState();
    const parts: string[] = [];
    let removed = 0;
    for (const table of TABLES) {
      const live = state.get(table);
      if (!live) continue;
      const lines: string[] = [];
      for (const [chain, rules] of live.builtins)
        for (const l of rules) if (jumpTarget(l)) lines.push(`-D ${chain} ${l.slice(`-A ${chain} `.length)}`);
      const chains = [...live.chains.keys()];
      if (lines.length + chains.length === 0) continue;
      parts.push(`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...lines, ...chains.map((c) => `-X ${c}`), 'COMMIT');
      removed += chains.length;
    }
    if (parts.length) await this.exec([this.cmds.restore, '--noflush', '-w', '5'], parts.join('\n') + '\n');
    this.written = undefined;
    this.needFull = true;
    return removed;
  }
}

/** The caller keeps changing its Maps in place; remember what was written (arrays are never mutated). */
function snapshot(r: Ruleset): Ruleset {
  return { nat: new Map(r.nat), filter: new Map(r.filter) };
}

function sameComment(saved: string, wanted: string): boolean {
  const a = /--comment "([^"]*)"/.exec(saved)?.[1] ?? /--comment (\S+)/.exec(saved)?.[1];
  const b = /--comment "([^"]*)"/.exec(wanted)?.[1];
  return a === b;
}
