// autoscaling/v2 HorizontalPodAutoscaler: the stored form (upstream's storage version); the
// autoscaling/v1 API reads and writes the same objects through hpa-v1.ts's conversion.

import { canonicalizeQuantity } from '../../machinery/quantity.ts';
import type { KObject, ResourceDef, TableDef } from '../types.ts';
import { age, ageColumn, col, nameColumn } from '../core/common.ts';
import { defaultHPAv2, validateHPAStatus, validateHPAv2 } from './hpa-validation.ts';

const q = (v: unknown) => {
  try {
    return canonicalizeQuantity(v);
  } catch {
    return String(v);
  }
};

/** Upstream formatHPAMetrics: "cpu: 40%/80%", at most two, then "+ N more...". */
export function formatHPAMetrics(specs: any[] | undefined, statuses: any[] | undefined): string {
  if (!specs?.length) return '<none>';
  const list: string[] = [];
  specs.forEach((spec, i) => {
    const st = statuses?.[i];
    switch (spec?.type) {
      case 'External':
      case 'Object': {
        const key = spec.type === 'External' ? 'external' : 'object';
        const t = spec[key]?.target ?? {};
        const cur = st?.[key]?.current;
        if (t.averageValue !== undefined && t.averageValue !== null)
          list.push(`${cur?.averageValue !== undefined && cur?.averageValue !== null ? q(cur.averageValue) : '<unknown>'}/${q(t.averageValue)} (avg)`);
        else list.push(`${st?.[key] ? q(cur?.value ?? 0) : '<unknown>'}/${q(t.value ?? 0)}`);
        break;
      }
      case 'Pods':
        list.push(`${st?.pods ? q(st.pods.current?.averageValue ?? 0) : '<unknown>'}/${q(spec.pods?.target?.averageValue ?? 0)}`);
        break;
      case 'Resource':
      case 'ContainerResource': {
        const key = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const src = spec[key] ?? {};
        const t = src.target ?? {};
        const cur = st?.[key];
        if (t.averageValue !== undefined && t.averageValue !== null) {
          list.push(`${src.name}: ${cur ? q(cur.current?.averageValue ?? 0) : '<unknown>'}/${q(t.averageValue)}`);
        } else {
          const u = cur?.current?.averageUtilization;
          const current = u !== undefined && u !== null ? `${u}%` : '<unknown>';
          const target = t.averageUtilization !== undefined && t.averageUtilization !== null ? `${t.averageUtilization}%` : '<auto>';
          list.push(`${src.name}: ${current}/${target}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  if (list.length > 2) return `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...`;
  return list.join(', ');
}

/** The printer shared by both versions, on the v2 form. */
export const hpaTable: TableDef = {
  columns: [
    nameColumn,
    col('Reference', 'string', 0, 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.'),
    col('Targets', 'string', 0, 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).'),
    col('MinPods', 'string', 0, 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.'),
    col('MaxPods', 'string', 0, 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.'),
    col('Replicas', 'string', 0, 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
    ageColumn,
  ],
  row(obj: KObject, now: number) {
    const spec = obj.spec ?? {};
    const ref = spec.scaleTargetRef ?? {};
    const min = spec.minReplicas;
    return [
      obj.metadata.name,
      `${ref.kind ?? ''}/${ref.name ?? ''}`,
      formatHPAMetrics(spec.metrics, obj.status?.currentMetrics),
      min === undefined || min === null ? '<unset>' : String(min),
      spec.maxReplicas ?? 0,
      obj.status?.currentReplicas ?? 0,
      age(obj, now),
    ];
  },
};

export const hpaV2: ResourceDef = {
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  model: 'V2HorizontalPodAutoscaler',
  strategy: {
    defaults: defaultHPAv2,
    prepareForCreate(obj) {
      // As upstream serialises an empty v2 status.
      obj.status = { currentMetrics: null, desiredReplicas: 0 };
    },
    validate: validateHPAv2,
  },
  status: { validateUpdate: validateHPAStatus },
  table: hpaTable,
};
