// The HorizontalPodAutoscaler controller's flags, upstream's names, shared by `mizzen up` and
// `mizzen controller-manager` so that both take the same spellings and limits.

import { parseDuration } from '../../machinery/duration.ts';
import type { ControllerManagerOptions } from '../types.ts';

export const HPA_FLAGS = {
  'horizontal-pod-autoscaler-sync-period': { type: 'string' },
  'horizontal-pod-autoscaler-downscale-stabilization': { type: 'string' },
  'horizontal-pod-autoscaler-tolerance': { type: 'string' },
  'horizontal-pod-autoscaler-cpu-initialization-period': { type: 'string' },
  'horizontal-pod-autoscaler-initial-readiness-delay': { type: 'string' },
} as const;

export const HPA_FLAG_HELP = `  --horizontal-pod-autoscaler-sync-period DURATION
                          how often each HorizontalPodAutoscaler is evaluated (default 15s)
  --horizontal-pod-autoscaler-downscale-stabilization DURATION
                          default scale-down stabilization window (default 5m)
  --horizontal-pod-autoscaler-tolerance RATIO
                          how far usage may stray from the target before scaling (default 0.1)
  --horizontal-pod-autoscaler-cpu-initialization-period DURATION
                          how long after a pod starts its CPU samples are doubted (default 5m)
  --horizontal-pod-autoscaler-initial-readiness-delay DURATION
                          how long after a pod starts a readiness change is doubted (default 30s)`;

type HpaOptions = Pick<ControllerManagerOptions, 'hpaSyncPeriodMs' | 'hpaDownscaleStabilizationMs' | 'hpaTolerance' | 'hpaCpuInitializationPeriodMs' | 'hpaInitialReadinessDelayMs'>;

/** The flags given, as options; throws with the flag's name on a bad value. */
export function hpaFlagOptions(values: Record<string, unknown>): HpaOptions {
  const out: HpaOptions = {};
  const duration = (flag: keyof typeof HPA_FLAGS, key: keyof HpaOptions, positive: boolean) => {
    const v = values[flag];
    if (v === undefined) return;
    let ms: number;
    try {
      ms = parseDuration(String(v));
    } catch {
      throw new Error(`invalid --${flag} "${v}": must be a duration such as 15s or 5m`);
    }
    if (positive ? ms <= 0 : ms < 0) throw new Error(`invalid --${flag} "${v}": must be ${positive ? 'positive' : 'zero or more'}`);
    out[key] = ms;
  };
  duration('horizontal-pod-autoscaler-sync-period', 'hpaSyncPeriodMs', true);
  duration('horizontal-pod-autoscaler-downscale-stabilization', 'hpaDownscaleStabilizationMs', false);
  duration('horizontal-pod-autoscaler-cpu-initialization-period', 'hpaCpuInitializationPeriodMs', false);
  duration('horizontal-pod-autoscaler-initial-readiness-delay', 'hpaInitialReadinessDelayMs', false);
  const t = values['horizontal-pod-autoscaler-tolerance'];
  if (t !== undefined) {
    const n = Number(t);
    if (String(t).trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`invalid --horizontal-pod-autoscaler-tolerance "${t}": must be a number, 0 or more`);
    out.hpaTolerance = n;
  }
  return out;
}
