import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hpaV2, formatHPAMetrics } from './hpa.ts';
import { behaviorAnnotation, conditionsAnnotation, hpaFromV1, hpaToV1, hpaV1, metricSpecsAnnotation, metricStatusesAnnotation } from './hpa-v1.ts';

const fields = (errs: { field: string }[]) => errs.map((e) => e.field);
const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'php-apache' };

function v2(spec: any, status: any = { currentMetrics: null, desiredReplicas: 0 }, annotations?: Record<string, string>): any {
  const o: any = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'php-apache', namespace: 'default', annotations }, spec, status };
  hpaV2.strategy.defaults!(o);
  if (!annotations) delete o.metadata.annotations;
  return o;
}

test('v2 defaults: minReplicas 1, CPU 80% when no metrics, behavior rules filled in', () => {
  const o = v2({ scaleTargetRef: ref, maxReplicas: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } });
  assert.equal(o.spec.minReplicas, 1);
  assert.deepEqual(o.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.deepEqual(o.spec.behavior.scaleUp, { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] });
  assert.deepEqual(o.spec.behavior.scaleDown, { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
  assert.deepEqual(hpaV2.strategy.validate!(o), []);
});

test('v2 validation paths and messages', () => {
  const v = (spec: any) => fields(hpaV2.strategy.validate!(v2({ scaleTargetRef: ref, maxReplicas: 5, ...spec })));
  assert.deepEqual(v({ minReplicas: 0 }), ['spec.minReplicas']);
  assert.deepEqual(v({ maxReplicas: 0, minReplicas: 1 }), ['spec.maxReplicas', 'spec.maxReplicas']);
  assert.deepEqual(v({ minReplicas: 6 }), ['spec.maxReplicas']);
  assert.deepEqual(v({ scaleTargetRef: { kind: 'Deployment' } }), ['spec.scaleTargetRef.name']);
  assert.deepEqual(v({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } }] }), ['spec.metrics[0].resource.target.averageUtilization']);
  assert.deepEqual(v({ metrics: [{ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue' } } }] }), ['spec.metrics[0].pods.target.averageValue']);
  assert.deepEqual(v({ metrics: [{ type: 'Object', resource: { name: 'cpu' } }] }), ['spec.metrics[0].object', 'spec.metrics[0].resource']);
  assert.deepEqual(v({ metrics: [{ type: 'Magic' }] }), ['spec.metrics[0].type']);
  assert.deepEqual(v({ behavior: { scaleUp: { policies: [] } } }), ['spec.behavior.scaleUp.policies']);
  assert.deepEqual(v({ behavior: { scaleDown: { stabilizationWindowSeconds: 4000 } } }), ['spec.behavior.scaleDown.stabilizationWindowSeconds']);
  const msg = hpaV2.strategy.validate!(v2({ scaleTargetRef: ref, maxReplicas: 1, minReplicas: 2 }))[0].detail;
  assert.equal(msg, 'Invalid value: 1: must be greater than or equal to `minReplicas`');
});

test('v2 → v1: targetCPUUtilizationPercentage, the rest in upstream round-trip annotations', () => {
  const stored = v2(
    {
      scaleTargetRef: ref,
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
        { type: 'Pods', pods: { metric: { name: 'packets-per-second' }, target: { type: 'AverageValue', averageValue: '1k' } } },
        { type: 'Object', object: { metric: { name: 'requests-per-second' }, describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main-route' }, target: { type: 'Value', value: '10k' } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } },
    },
    {
      observedGeneration: 1,
      currentReplicas: 2,
      desiredReplicas: 3,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 40, averageValue: '100m' } } }],
      conditions: [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'ReadyForNewScale' }],
    },
    { keep: 'me' },
  );
  const v1 = hpaToV1(stored);
  assert.equal(v1.apiVersion, 'autoscaling/v1');
  assert.deepEqual(v1.spec, { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 10, targetCPUUtilizationPercentage: 50 });
  assert.deepEqual(v1.status, { observedGeneration: 1, currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 40 });
  const a = v1.metadata.annotations!;
  assert.equal(a.keep, 'me');
  assert.deepEqual(JSON.parse(a[metricSpecsAnnotation]), [
    { type: 'Pods', pods: { metricName: 'packets-per-second', targetAverageValue: '1k' } },
    { type: 'Object', object: { target: { kind: 'Ingress', name: 'main-route', apiVersion: 'networking.k8s.io/v1' }, metricName: 'requests-per-second', targetValue: '10k' } },
  ]);
  assert.deepEqual(JSON.parse(a[metricStatusesAnnotation]), [{ type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 40, currentAverageValue: '100m' } }]);
  assert.deepEqual(JSON.parse(a[conditionsAnnotation]), [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'ReadyForNewScale' }]);
  // Upstream marshals its internal type here, so the keys are Go field names.
  assert.deepEqual(JSON.parse(a[behaviorAnnotation]).ScaleDown, { StabilizationWindowSeconds: 300, SelectPolicy: 'Max', Policies: [{ Type: 'Percent', Value: 100, PeriodSeconds: 15 }] });

  // ...and back: nothing lost, the annotations gone.
  const back = hpaFromV1(v1);
  assert.deepEqual(back.metadata.annotations, { keep: 'me' });
  const norm = (o: any) => JSON.parse(JSON.stringify(o));
  assert.deepEqual(norm(back.spec.metrics), norm([stored.spec.metrics[1], stored.spec.metrics[2], stored.spec.metrics[0]]).map((m: any) => (m.type === 'Object' ? { ...m, object: { describedObject: m.object.describedObject, target: m.object.target, metric: m.object.metric } } : m)));
  assert.deepEqual(back.spec.behavior, stored.spec.behavior);
  assert.deepEqual(back.status.conditions, stored.status.conditions);
  assert.deepEqual(back.status.currentMetrics, stored.status.currentMetrics);
});

test('v1 → v2: CPU target becomes a metric; none means upstream 80% default', () => {
  const v1: any = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h', namespace: 'default' }, spec: { scaleTargetRef: ref, maxReplicas: 3 } };
  hpaV1.strategy.defaults!(v1);
  const stored = hpaFromV1(v1);
  assert.deepEqual(stored.spec, { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] });
  assert.equal(hpaToV1(stored).spec.targetCPUUtilizationPercentage, 80);
  assert.deepEqual(stored.status, { desiredReplicas: 0, currentMetrics: null });
  // v1 validation reports the v2 paths, as upstream validates the converted object.
  const bad = { ...v1, spec: { ...v1.spec, targetCPUUtilizationPercentage: 0 } };
  assert.deepEqual(fields(hpaV1.strategy.validate!(bad)), ['spec.metrics[0].resource.target.averageUtilization']);
});

test('printer: REFERENCE TARGETS MINPODS MAXPODS REPLICAS', () => {
  assert.deepEqual(hpaV2.table!.columns.map((c) => c.name), ['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']);
  const o = v2({ scaleTargetRef: ref, maxReplicas: 10, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] });
  o.metadata.creationTimestamp = '2024-01-01T00:00:00Z';
  assert.deepEqual(hpaV2.table!.row(o, Date.parse('2024-01-01T00:00:10Z')), ['php-apache', 'Deployment/php-apache', 'cpu: <unknown>/50%', '1', 10, 0, '10s']);
  assert.deepEqual(hpaV1.table!.row(hpaToV1(o), Date.parse('2024-01-01T00:00:10Z')), ['php-apache', 'Deployment/php-apache', 'cpu: <unknown>/50%', '1', 10, 0, '10s']);
  const specs = [
    { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
    { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '1k' } } },
    { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '30' } } },
  ];
  const statuses = [{ type: 'Resource', resource: { name: 'memory', current: { averageValue: '250Mi' } } }, { type: 'Pods', pods: { current: { averageValue: '900' } } }];
  assert.equal(formatHPAMetrics(specs, statuses), 'memory: 250Mi/500Mi, 900/1k + 1 more...');
  assert.equal(formatHPAMetrics([], []), '<none>');
});
