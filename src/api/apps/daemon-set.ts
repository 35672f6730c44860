// apps/v1 DaemonSet.

import { field, type FieldError } from '../../machinery/errors.ts';
import { defaultPodTemplateSpec } from '../core/pod-spec.ts';
import { humanAge, type KObject, type ResourceDef } from '../types.ts';
import { validateImmutable } from '../validation.ts';
import {
  ageColumn,
  containerCells,
  containersColumn,
  ensureSpec,
  formatLabelSelector,
  imagesColumn,
  intOrPercent,
  intOrPercentValue,
  nameColumn,
  nonNegative,
  notMoreThan100Percent,
  resetStatus,
  selectorColumn,
  validateWorkloadSelectorAndTemplate,
} from './workload-common.ts';

export function defaultDaemonSet(obj: KObject): void {
  const spec = ensureSpec(obj);
  spec.updateStrategy ??= {};
  spec.updateStrategy.type ||= 'RollingUpdate';
  if (spec.updateStrategy.type === 'RollingUpdate') {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  defaultPodTemplateSpec((spec.template ??= {}));
}

function validateUpdateStrategy(us: any): FieldError[] {
  const errs: FieldError[] = [];
  const p = 'spec.updateStrategy';
  const type = us?.type ?? '';
  if (type === 'RollingUpdate') {
    const ru = us.rollingUpdate;
    if (!ru) return [field.required(`${p}.rollingUpdate`)];
    const rp = `${p}.rollingUpdate`;
    errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${rp}.maxUnavailable`));
    errs.push(...intOrPercent(ru.maxUnavailable, `${rp}.maxUnavailable`));
    errs.push(...intOrPercent(ru.maxSurge, `${rp}.maxSurge`));
    const hasUnavailable = intOrPercentValue(ru.maxUnavailable ?? 0) !== 0;
    const hasSurge = intOrPercentValue(ru.maxSurge ?? 0) !== 0;
    if (hasUnavailable && hasSurge) errs.push(field.invalid(`${rp}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
    else if (!hasUnavailable && !hasSurge) errs.push(field.required(`${rp}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
  } else if (type === 'OnDelete') {
    // nothing to check
  } else if (type === '') {
    errs.push(field.required(`${p}.type`));
  } else {
    errs.push(field.notSupported(`${p}.type`, type, ['OnDelete', 'RollingUpdate']));
  }
  return errs;
}

export function validateDaemonSet(obj: KObject): FieldError[] {
  const spec = obj.spec ?? {};
  const errs: FieldError[] = [];
  errs.push(...validateWorkloadSelectorAndTemplate(spec, 'empty selector is invalid for daemonset', 'DaemonSet'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.templateGeneration, 'spec.templateGeneration'));
  errs.push(...validateUpdateStrategy(spec.updateStrategy));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return errs;
}

export function validateDaemonSetUpdate(obj: KObject, old: KObject): FieldError[] {
  return [...validateDaemonSet(obj), ...validateImmutable(obj.spec?.selector, old.spec?.selector, 'spec.selector')];
}

export const daemonsets: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  model: 'V1DaemonSet',
  tracksGeneration: true,
  strategy: {
    defaults: defaultDaemonSet,
    prepareForCreate: resetStatus,
    validate: validateDaemonSet,
    validateUpdate: validateDaemonSetUpdate,
  },
  status: {},
  table: {
    columns: [
      nameColumn,
      { name: 'Desired', type: 'integer', description: 'Nodes that should run the daemon pod.', priority: 0 },
      { name: 'Current', type: 'integer', description: 'Nodes running at least one daemon pod.', priority: 0 },
      { name: 'Ready', type: 'integer', description: 'Nodes whose daemon pod is ready.', priority: 0 },
      { name: 'Up-to-date', type: 'integer', description: 'Nodes running the updated daemon pod.', priority: 0 },
      { name: 'Available', type: 'integer', description: 'Nodes whose daemon pod is available.', priority: 0 },
      { name: 'Node Selector', type: 'string', description: 'Node selector of the pod template.', priority: 0 },
      ageColumn,
      containersColumn,
      imagesColumn,
      selectorColumn,
    ],
    row(obj, now) {
      const st = obj.status ?? {};
      const [names, images] = containerCells(obj.spec?.template);
      const nodeSelector = obj.spec?.template?.spec?.nodeSelector ?? {};
      // labels.FormatLabels: sorted key=value pairs, `<none>` when empty.
      const ns = Object.keys(nodeSelector)
        .sort()
        .map((k) => `${k}=${nodeSelector[k]}`)
        .join(',');
      return [
        obj.metadata.name,
        st.desiredNumberScheduled ?? 0,
        st.currentNumberScheduled ?? 0,
        st.numberReady ?? 0,
        st.updatedNumberScheduled ?? 0,
        st.numberAvailable ?? 0,
        ns || '<none>',
        humanAge(obj.metadata.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(obj.spec?.selector),
      ];
    },
  },
};
