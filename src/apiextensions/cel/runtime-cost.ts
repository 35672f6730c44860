// Runtime cost of validation rules, as upstream bounds it: each evaluation of a rule or a
// messageExpression may cost at most `perCallLimit`, and all rules run while validating one object
// share `runtimeCostBudget`. cel-go counts a cost while interpreting; @marcbachmann/cel-js has no
// such hook, so the meter sits on its evaluator: every sub-expression it evaluates costs 1 (each
// comprehension step's too), which is cel-go's cost for expressions without size-dependent
// functions (string, regex and list functions cost cel-go more per call, here 1).

import type { Environment } from '@marcbachmann/cel-js';

/** Upstream's celconfig.PerCallLimit and RuntimeCELCostBudget. */
export const perCallLimit = 1_000_000;
export const runtimeCostBudget = 10_000_000;

/** cel-go's error when an evaluation goes over its limit (upstream's messages quote it). */
export const costLimitExceeded = 'operation cancelled: actual cost limit exceeded';

export class CostLimitError extends Error {
  constructor() {
    super(costLimitExceeded);
  }
}

interface Meter {
  used: number;
  limit: number;
  exceeded: boolean;
}

// Evaluation is synchronous (no async functions are registered), so one meter at a time.
let current: Meter | undefined;

interface EvaluatorLike {
  run(ast: unknown, ctx: unknown): unknown;
}

const metered = new WeakSet<Environment>();

/**
 * Puts the meter on `env`'s evaluator (once). The evaluator is private to the environment: it is
 * caught as the argument of a probe expression's evaluation, then its `run` (through which every
 * sub-expression is evaluated) counts.
 */
export function meterEnvironment(env: Environment): Environment {
  if (metered.has(env)) return env;
  const probe = env.parse('true');
  let ev: EvaluatorLike | undefined;
  (probe.ast as unknown as { evaluate: (e: EvaluatorLike) => boolean }).evaluate = (e) => {
    ev = e;
    return true;
  };
  probe({});
  if (!ev) throw new Error('cel-js evaluator not found for the cost meter');
  const run = ev.run;
  ev.run = function meteredRun(this: EvaluatorLike, ast: unknown, ctx: unknown) {
    const m = current;
    // An exceeded meter stays exceeded: `||`, `&&` and the quantifier macros catch errors of
    // their operands, so every later step fails too, and the caller looks at the meter.
    if (m && (m.exceeded || ++m.used > m.limit)) {
      m.exceeded = true;
      throw new CostLimitError();
    }
    return run.call(this, ast, ctx);
  };
  metered.add(env);
  return env;
}

export interface MeteredResult {
  value?: unknown;
  error?: unknown;
  /** What the evaluation cost. */
  cost: number;
  /** It went over `limit` and was stopped. */
  exceeded: boolean;
}

/** Evaluates `program` (of a metered environment) with at most `limit` cost. */
export function evaluateMetered(program: (ctx: Record<string, unknown>) => unknown, ctx: Record<string, unknown>, limit = perCallLimit): MeteredResult {
  // The root expression is evaluated without `run`: it costs 1 here.
  const m: Meter = { used: 1, limit, exceeded: false };
  const outer = current;
  current = m;
  try {
    const value = program(ctx);
    return m.exceeded ? { error: new CostLimitError(), cost: m.used, exceeded: true } : { value, cost: m.used, exceeded: false };
  } catch (error) {
    return { error: m.exceeded ? new CostLimitError() : error, cost: m.used, exceeded: m.exceeded };
  } finally {
    current = outer;
  }
}
