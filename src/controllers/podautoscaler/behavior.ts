// What the autoscaler may do with a recommendation (upstream's normalizeDesiredReplicas and
// normalizeDesiredReplicasWithBehaviors, rewritten): stabilization over recent recommendations,
// then the min/max bounds and the scaling rate (the old fixed rate without `behavior`; the
// scale-up and scale-down policies with it). Recommendations and scale events are per HPA and kept
// in memory, as upstream keeps them.

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: ScalingPolicy[];
}

export interface Behavior {
  scaleUp?: ScalingRules;
  scaleDown?: ScalingRules;
}

interface Recommendation {
  replicas: number;
  at: number;
}

interface ScaleEvent {
  change: number;
  at: number;
  outdated: boolean;
}

export interface Outcome {
  replicas: number;
  /** AbleToScale's reason and message (stabilization). */
  ableReason: string;
  ableMessage: string;
  /** ScalingLimited: true when the bounds or the rate changed the stabilized recommendation. */
  limited: boolean;
  limitReason: string;
  limitMessage: string;
}

export interface NormalizeArgs {
  key: string;
  current: number;
  desired: number;
  min: number;
  max: number;
  behavior?: Behavior;
  now: number;
}

const WITHIN = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
const TOO_FEW = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
const TOO_MANY = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
const UP_LIMIT = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
const DOWN_LIMIT = { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' };

export class ScalingHistory {
  private recommendations = new Map<string, Recommendation[]>();
  private upEvents = new Map<string, ScaleEvent[]>();
  private downEvents = new Map<string, ScaleEvent[]>();

  constructor(private readonly downscaleStabilizationMs: number) {}

  forget(key: string): void {
    this.recommendations.delete(key);
    this.upEvents.delete(key);
    this.downEvents.delete(key);
  }

  /** The replica count to set, with the conditions that explain it. */
  normalize(a: NormalizeArgs): Outcome {
    return a.behavior ? this.withBehavior(a, a.behavior) : this.withoutBehavior(a);
  }

  /** Without `behavior`: the highest recommendation of the downscale window, a fixed scale-up rate. */
  private withoutBehavior(a: NormalizeArgs): Outcome {
    const recs = this.recommendations.get(a.key) ?? [];
    const cutoff = a.now - this.downscaleStabilizationMs;
    let stabilized = a.desired;
    let replaced = false;
    for (const r of recs) {
      if (r.at > cutoff) stabilized = Math.max(stabilized, r.replicas);
    }
    // Reuse one outdated slot, as upstream does, so the list stays as long as the window needs.
    for (const r of recs) {
      if (r.at <= cutoff && !replaced) {
        r.replicas = a.desired;
        r.at = a.now;
        replaced = true;
      }
    }
    if (!replaced) recs.push({ replicas: a.desired, at: a.now });
    this.recommendations.set(a.key, recs);
    const able = stabilized !== a.desired
      ? { ableReason: 'ScaleDownStabilized', ableMessage: 'recent recommendations were higher than current one, applying the highest recent recommendation' }
      : { ableReason: 'ReadyForNewScale', ableMessage: 'recommended size matches current size' };
    const scaleUpLimit = Math.max(2 * a.current, 4);
    let replicas = stabilized;
    let limit = WITHIN;
    if (stabilized < a.min) {
      replicas = a.min;
      limit = TOO_FEW;
    } else {
      const maxAllowed = a.max > scaleUpLimit ? scaleUpLimit : a.max;
      if (stabilized > maxAllowed) {
        replicas = maxAllowed;
        limit = a.max > scaleUpLimit ? UP_LIMIT : TOO_MANY;
      }
    }
    return { replicas, ...able, limited: replicas !== stabilized, limitReason: limit.reason, limitMessage: limit.message };
  }

  private withBehavior(a: NormalizeArgs, b: Behavior): Outcome {
    const upWindow = (b.scaleUp?.stabilizationWindowSeconds ?? 0) * 1000;
    const downWindow = b.scaleDown?.stabilizationWindowSeconds !== undefined && b.scaleDown.stabilizationWindowSeconds !== null ? b.scaleDown.stabilizationWindowSeconds * 1000 : this.downscaleStabilizationMs;
    const upCutoff = a.now - upWindow;
    const downCutoff = a.now - downWindow;
    let up = a.desired;
    let down = a.desired;
    const recs = this.recommendations.get(a.key) ?? [];
    let old = -1;
    recs.forEach((r, i) => {
      if (r.at > upCutoff) up = Math.min(up, r.replicas);
      if (r.at > downCutoff) down = Math.max(down, r.replicas);
      if (r.at < upCutoff && r.at < downCutoff) old = i;
    });
    let stabilized = a.current;
    if (stabilized < up) stabilized = up;
    if (stabilized > down) stabilized = down;
    if (old >= 0) recs[old] = { replicas: a.desired, at: a.now };
    else recs.push({ replicas: a.desired, at: a.now });
    this.recommendations.set(a.key, recs);
    let able = { ableReason: 'ReadyForNewScale', ableMessage: 'recommended size matches current size' };
    if (stabilized > a.desired) able = { ableReason: 'ScaleDownStabilized', ableMessage: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
    else if (stabilized < a.desired) able = { ableReason: 'ScaleUpStabilized', ableMessage: 'recent recommendations were lower than current one, applying the lowest recent recommendation' };

    let replicas = stabilized;
    let limit = WITHIN;
    if (stabilized > a.current) {
      let upLimit = this.scaleUpLimit(a.key, a.current, b.scaleUp ?? {}, a.now);
      if (upLimit < a.current) upLimit = a.current;
      const maxAllowed = a.max > upLimit ? upLimit : a.max;
      const why = a.max > upLimit ? UP_LIMIT : TOO_MANY;
      if (stabilized > maxAllowed) {
        replicas = maxAllowed;
        limit = why;
      }
    } else if (stabilized < a.current) {
      let downLimit = this.scaleDownLimit(a.key, a.current, b.scaleDown ?? {}, a.now);
      if (downLimit > a.current) downLimit = a.current;
      const minAllowed = a.min < downLimit ? downLimit : a.min;
      const why = a.min < downLimit ? DOWN_LIMIT : TOO_FEW;
      if (stabilized < minAllowed) {
        replicas = minAllowed;
        limit = why;
      }
    }
    return { replicas, ...able, limited: replicas !== stabilized, limitReason: limit.reason, limitMessage: limit.message };
  }

  private static changeInPeriod(events: ScaleEvent[] | undefined, periodSeconds: number, now: number): number {
    let sum = 0;
    for (const e of events ?? []) if (!e.outdated && e.at > now - periodSeconds * 1000) sum += e.change;
    return sum;
  }

  private scaleUpLimit(key: string, current: number, rules: ScalingRules, now: number): number {
    if (rules.selectPolicy === 'Disabled') return current;
    const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
    let result = rules.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
    for (const p of rules.policies ?? []) {
      const start = current - ScalingHistory.changeInPeriod(this.upEvents.get(key), p.periodSeconds, now);
      const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
      result = pick(result, proposed);
    }
    return result;
  }

  private scaleDownLimit(key: string, current: number, rules: ScalingRules, now: number): number {
    if (rules.selectPolicy === 'Disabled') return current;
    // Min picks the policy that removes the fewest pods: the highest limit.
    const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
    let result = rules.selectPolicy === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
    for (const p of rules.policies ?? []) {
      const start = current + ScalingHistory.changeInPeriod(this.downEvents.get(key), p.periodSeconds, now);
      const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
      result = pick(result, proposed);
    }
    return result;
  }

  /** Remember a rescale for the rate policies (only with `behavior`, as upstream). */
  recordScale(key: string, behavior: Behavior | undefined, from: number, to: number, now: number): void {
    if (!behavior || from === to) return;
    const up = to > from;
    const rules = up ? behavior.scaleUp : behavior.scaleDown;
    const longest = Math.max(0, ...(rules?.policies ?? []).map((p) => p.periodSeconds)) * 1000;
    const map = up ? this.upEvents : this.downEvents;
    const events = map.get(key) ?? [];
    for (const e of events) if (e.at <= now - longest) e.outdated = true;
    const ev = { change: up ? to - from : from - to, at: now, outdated: false };
    const slot = events.findIndex((e) => e.outdated);
    if (slot >= 0) events[slot] = ev;
    else events.push(ev);
    map.set(key, events);
  }
}
