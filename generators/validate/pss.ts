/**
 * Pod Security Standards, `restricted` profile (which includes `baseline`), checked on pod
 * templates the way the PodSecurity admission controller checks pods
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/, policy version latest).
 */
type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);

export interface PssViolation {
  /** JSON pointer inside the object. */
  pointer: string;
  check: string;
  message: string;
}

/** Pod templates of a workload object (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob). */
export function podSpecsOf(object: unknown): { pointer: string; spec: Json }[] {
  const o = obj(object);
  const spec = obj(o.spec);
  switch (o.kind) {
    case 'Pod':
      return [{ pointer: '/spec', spec }];
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return [{ pointer: '/spec/template/spec', spec: obj(obj(spec.template).spec) }];
    case 'CronJob':
      return [{ pointer: '/spec/jobTemplate/spec/template/spec', spec: obj(obj(obj(obj(spec.jobTemplate).spec).template).spec) }];
    default:
      return [];
  }
}

const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

/** Every violation of PSS restricted in one pod spec (`pointer` is where the spec sits in its object). */
export function checkPodSpecRestricted(spec: Json, pointer = ''): PssViolation[] {
  const out: PssViolation[] = [];
  const v = (p: string, check: string, message: string): void => void out.push({ pointer: `${pointer}${p}`, check, message });
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (spec[f] === true) v(`/${f}`, 'host-namespaces', `${f} must not be true`);
  const podSc = obj(spec.securityContext);
  const podSeccomp = obj(podSc.seccompProfile).type;
  if (podSeccomp !== undefined && podSeccomp !== 'RuntimeDefault' && podSeccomp !== 'Localhost') v('/securityContext/seccompProfile/type', 'seccomp', `seccomp profile ${String(podSeccomp)} is not allowed (RuntimeDefault or Localhost)`);
  if (podSc.runAsUser === 0) v('/securityContext/runAsUser', 'run-as-user', 'runAsUser must not be 0');
  const podSelinux = obj(podSc.seLinuxOptions);
  if (!SELINUX_TYPES.has(String(podSelinux.type ?? ''))) v('/securityContext/seLinuxOptions/type', 'selinux', `SELinux type ${String(podSelinux.type)} is not allowed`);
  if (podSelinux.user !== undefined || podSelinux.role !== undefined) v('/securityContext/seLinuxOptions', 'selinux', 'SELinux user and role must not be set');
  const appArmor = obj(podSc.appArmorProfile).type;
  if (appArmor !== undefined && appArmor !== 'RuntimeDefault' && appArmor !== 'Localhost') v('/securityContext/appArmorProfile/type', 'apparmor', `AppArmor profile ${String(appArmor)} is not allowed`);
  arr(podSc.sysctls).forEach((s, i) => {
    if (!SAFE_SYSCTLS.has(String(s.name))) v(`/securityContext/sysctls/${i}/name`, 'sysctls', `sysctl ${String(s.name)} is not in the safe set`);
  });
  if (obj(podSc.windowsOptions).hostProcess === true) v('/securityContext/windowsOptions/hostProcess', 'windows-host-process', 'hostProcess must not be true');
  arr(spec.volumes).forEach((vol, i) => {
    const type = Object.keys(vol).find((k) => k !== 'name');
    if (type === 'hostPath') v(`/volumes/${i}/hostPath`, 'host-path-volumes', `volume '${String(vol.name)}' is a hostPath volume`);
    else if (type === undefined || !RESTRICTED_VOLUME_TYPES.has(type)) v(`/volumes/${i}`, 'restricted-volume-types', `volume '${String(vol.name)}' has type ${String(type)}, not one of ${[...RESTRICTED_VOLUME_TYPES].join(', ')}`);
  });
  let everyContainerNonRoot = true;
  let everyContainerSeccomp = true;
  for (const field of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    arr(spec[field]).forEach((c, i) => {
      const at = `/${field}/${i}`;
      const sc = obj(c.securityContext);
      const name = `container '${String(c.name)}'`;
      if (sc.privileged === true) v(`${at}/securityContext/privileged`, 'privileged', `${name} is privileged`);
      if (sc.allowPrivilegeEscalation !== false) v(`${at}/securityContext/allowPrivilegeEscalation`, 'allow-privilege-escalation', `${name} must set allowPrivilegeEscalation: false`);
      const caps = obj(sc.capabilities);
      const drop = Array.isArray(caps.drop) ? caps.drop.map(String) : [];
      if (!drop.includes('ALL')) v(`${at}/securityContext/capabilities/drop`, 'capabilities', `${name} must drop ALL capabilities`);
      (Array.isArray(caps.add) ? caps.add.map(String) : []).forEach((cap, j) => {
        if (cap !== 'NET_BIND_SERVICE') v(`${at}/securityContext/capabilities/add/${j}`, 'capabilities', `${name} may add only NET_BIND_SERVICE, not ${cap}${BASELINE_CAPABILITIES.has(cap) ? '' : ' (not even baseline allows it)'}`);
      });
      if (sc.runAsNonRoot === false) v(`${at}/securityContext/runAsNonRoot`, 'run-as-non-root', `${name} sets runAsNonRoot: false`);
      if (sc.runAsNonRoot !== true) everyContainerNonRoot = false;
      if (sc.runAsUser === 0) v(`${at}/securityContext/runAsUser`, 'run-as-user', `${name} runs as user 0`);
      const seccomp = obj(sc.seccompProfile).type;
      if (seccomp === undefined) everyContainerSeccomp = false;
      else if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') v(`${at}/securityContext/seccompProfile/type`, 'seccomp', `${name} uses seccomp profile ${String(seccomp)}`);
      if (sc.procMount !== undefined && sc.procMount !== 'Default') v(`${at}/securityContext/procMount`, 'proc-mount', `${name} sets procMount ${String(sc.procMount)}`);
      const selinux = obj(sc.seLinuxOptions);
      if (!SELINUX_TYPES.has(String(selinux.type ?? ''))) v(`${at}/securityContext/seLinuxOptions/type`, 'selinux', `${name} sets SELinux type ${String(selinux.type)}`);
      const cAppArmor = obj(sc.appArmorProfile).type;
      if (cAppArmor !== undefined && cAppArmor !== 'RuntimeDefault' && cAppArmor !== 'Localhost') v(`${at}/securityContext/appArmorProfile/type`, 'apparmor', `${name} uses AppArmor profile ${String(cAppArmor)}`);
      arr(c.ports).forEach((p, j) => {
        if (p.hostPort !== undefined && p.hostPort !== 0) v(`${at}/ports/${j}/hostPort`, 'host-ports', `${name} uses host port ${String(p.hostPort)}`);
      });
      if (obj(sc.windowsOptions).hostProcess === true) v(`${at}/securityContext/windowsOptions/hostProcess`, 'windows-host-process', `${name} is a Windows host process`);
    });
  }
  if (podSc.runAsNonRoot !== true && !everyContainerNonRoot) v('/securityContext/runAsNonRoot', 'run-as-non-root', 'runAsNonRoot: true is required on the pod or on every container');
  if (podSeccomp === undefined && !everyContainerSeccomp) v('/securityContext/seccompProfile', 'seccomp', 'seccompProfile RuntimeDefault (or Localhost) is required on the pod or on every container');
  return out;
}

/** PSS restricted violations of every pod template in an object (none for objects without pods). */
export function checkRestricted(object: unknown): PssViolation[] {
  return podSpecsOf(object).flatMap(({ pointer, spec }) => checkPodSpecRestricted(spec, pointer));
}
