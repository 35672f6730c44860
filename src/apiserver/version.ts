// What /version reports. kubectl's dispatcher picks its build by this minor version.

export const kubernetesVersion = { major: '1', minor: '32', patch: '4' };

export function versionInfo(): object {
  return {
    major: kubernetesVersion.major,
    minor: kubernetesVersion.minor,
    gitVersion: `v${kubernetesVersion.major}.${kubernetesVersion.minor}.${kubernetesVersion.patch}+mizzen`,
    gitCommit: 'mizzen',
    gitTreeState: 'clean',
    buildDate: '2026-11-26T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsx',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
