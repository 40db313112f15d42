'use strict';
// CRI scenarios against a private containerd, for one runtime handler (runc or husk):
//   pod      RunPodSandbox, two containers (one VM: same boot id; own rootfs each), ExecSync
//            output and exit code, the CRI log files, StopPodSandbox, RemovePodSandbox,
//            nothing left behind
//   sharedpid  shareProcessNamespace: the containers share the pod's PID namespace
//   vmdies   (husk) the pod's VM killed with container a running and b created: a is reported
//            exited, StartContainer of b fails, the pod still goes cleanly (under runc a
//            container outlives its pod's pause process)
//   restart  containerd restarted mid-pod, stopped cleanly then killed; the pod still serves
//            ExecSync (in the same kernel), then goes cleanly
//   twopods  a second pod (handler PEER_HANDLER, by default HANDLER) on the same CNI network:
//            a server in each pod answers a client in the other
//   privileged  (husk) a privileged pod: its privileged container makes a bridge, a veth pair,
//            a tap, an nftables NAT rule, an overlay and a fuse mount in the VM, none of which
//            the host sees; a container of uid 1000 runs the image's setuid-root /bin/euid as
//            euid 0, or as 1000 with no_new_privs
//   metrics  (husk) husk metrics (HUSK_CLI) shows the pod by its CRI name and namespace,
//            running, with its guest's figures; the sandbox task's metrics are the pod's host
//            side, a container's its guest's; an ExecSync moves its exec counter; it is gone
//            with the pod
//   hostport a pod with a hostPort (CNI's portmap plugin): the host GETs from busybox's httpd
//            in it at 127.0.0.1:CRI_HOSTPORT and at the bridge's address; CNI's DNAT rule is
//            there while the pod runs, and gone with it
// Usage: node pod.js SCENARIO HANDLER [PEER_HANDLER]   with, in the environment:
//   CRI_DIR        a fresh, short directory (it holds containerd's config, state and sockets)
//   CRI_IMAGE_TAR  the busybox OCI image (tests/integration/make-oci-image), Cmd a long sleep
//   CRI_BRIDGE, CRI_SUBNET  the pods' CNI bridge and /24 (the test's own)
//   CRI_HOSTPORT   for hostport: the host port to map
//   HUSK_SHIM, HUSK_CONFIG  for the husk handler: the shim binary and its husk.json
//   HUSK_CLI       for metrics: the husk binary
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const { execFileSync } = require('child_process');
const { Containerd } = require('./containerd');
const { CriClient } = require('./cri');
const h = require('./harness');

const IMAGE = 'docker.io/library/husk-busybox:latest';
const NS = 'k8s.io';
const BOOT_ID = 'cat /proc/sys/kernel/random/boot_id';
// the pod's network (CNI's), a namespace per container for PID (the kubelet's choice without
// shareProcessNamespace; the pod's in the sharedpid scenario), the pod's for IPC
const [scenario, handler, peerHandler = handler] = process.argv.slice(2);
const NAMESPACES = { network: 'POD', pid: scenario === 'sharedpid' ? 'POD' : 'CONTAINER', ipc: 'POD' };
const SERVER_PORT = 8080;

const HOST_PORT = Number(process.env.CRI_HOSTPORT || 0);
const NET24 = (process.env.CRI_SUBNET || '').replace(/0\/24$/, ''); // "10.250.7."
// the pods' resolv.conf (PodSandboxConfig.dns_config); the server (in the test's subnet, no
// pod has its address) is never asked
const DNS = { servers: [`${NET24}253`], searches: ['husk.test', 'svc.husk.test'], options: ['ndots:2', 'timeout:1'] };

// the pods' cgroup parent (made by the test, as the kubelet makes its pod cgroups; "" none)
// and the mount points of the cgroup hierarchies a runtime joins
const CG_PARENT = process.env.CRI_CGROUP_PARENT || '';
const CG_MOUNTS = (process.env.CRI_CGROUP_MOUNTS || '').split(' ').filter(Boolean);

const dir = process.env.CRI_DIR;
let ctd;
let cri;
// A pod: name, handler, id, config, containers: name -> id (current). The scenario's pod is
// `pod`; twopods adds `peer`. Container names are unique across the pods.
const newPod = (name, podHandler) => ({ name, handler: podHandler, containers: {} });
const pod = newPod(`cri-${handler}`, handler);
const peer = newPod(`cri-${peerHandler}-peer`, peerHandler);
const pods = [pod];
const ids = []; // every pod and container id made

// Every pod and container id, one a line in DIR/ids, for the bats teardown to clean up after a
// failure (a VM's processes name its ids, not DIR).
function recordId(id) {
  ids.push(id);
  fs.appendFileSync(path.join(dir, 'ids'), `${id}\n`);
}

// The container id of the container called name, in whichever pod it is.
function containerId(name) {
  const p = pods.find((q) => name in q.containers);
  if (!p) h.fail(`no container ${name}`);
  return p.containers[name];
}

async function startContainerd() {
  ctd.start();
  cri = cri || new CriClient(ctd.endpoint, dir);
  await h.waitFor(
    'containerd answering CRI Status with RuntimeReady',
    async () => {
      h.check(ctd.running(), `containerd exited (status ${ctd.exitStatus()})`);
      const res = await cri.rt('Status', {}, 2000);
      return res.status.conditions.some((c) => c.type === 'RuntimeReady' && c.status);
    },
    30000,
    200,
  );
}

function importImage() {
  execFileSync('ctr', ['--address', ctd.address, '-n', NS, 'images', 'import', process.env.CRI_IMAGE_TAR], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

// The kubelet's PodSandboxConfig: the pod's DNS settings and, in the hostport scenario, its
// server's port mapped to CRI_HOSTPORT on the host.
function podConfig(p) {
  const ports = scenario === 'hostport' && p === pod
    ? [{ protocol: 'TCP', container_port: SERVER_PORT, host_port: HOST_PORT, host_ip: '' }]
    : [];
  return {
    metadata: { name: p.name, uid: crypto.randomUUID(), namespace: 'husk-test', attempt: 0 },
    hostname: p.name,
    log_directory: path.join(dir, 'logs', p.name),
    dns_config: DNS,
    port_mappings: ports,
    labels: {},
    annotations: {},
    linux: {
      cgroup_parent: CG_PARENT,
      security_context: { namespace_options: NAMESPACES, privileged: scenario === 'privileged' },
    },
  };
}

async function runPod(p = pod) {
  p.config = podConfig(p);
  const res = await cri.rt('RunPodSandbox', { config: p.config, runtime_handler: p.handler });
  p.id = res.pod_sandbox_id;
  if (!pods.includes(p)) pods.push(p);
  recordId(p.id);
  const st = await cri.rt('PodSandboxStatus', { pod_sandbox_id: p.id });
  h.checkEqual(st.status.state, 'SANDBOX_READY', `pod ${p.name} state after RunPodSandbox`);
  h.checkEqual(st.status.runtime_handler, p.handler, `pod ${p.name} runtime handler`);
}

// A container of pod p running script (by default it logs one line to each stream, then
// sleeps), with a read-only rootfs if readonly, on a terminal if tty, and the
// LinuxContainerSecurityContext fields in security.
async function startContainer(name, { script, readonly = false, tty = false, p = pod, security = {}, resources, start = true } = {}) {
  const config = {
    metadata: { name, attempt: 0 },
    tty,
    image: { image: IMAGE },
    command: ['sh', '-c', script || `echo hello from ${name}; echo ${name} to stderr >&2; exec sleep 100000`],
    log_path: `${name}.log`,
    labels: {},
    annotations: {},
    linux: { security_context: { namespace_options: NAMESPACES, readonly_rootfs: readonly, ...security }, resources },
  };
  const res = await cri.rt('CreateContainer', {
    pod_sandbox_id: p.id,
    config,
    sandbox_config: p.config,
  });
  p.containers[name] = res.container_id;
  recordId(res.container_id);
  if (start) await cri.rt('StartContainer', { container_id: res.container_id });
}

// StopContainer (SIGKILL at once unless a grace period is given), then RemoveContainer.
async function removeContainer(name, timeout = 0) {
  const id = containerId(name);
  await cri.rt('StopContainer', { container_id: id, timeout });
  await cri.rt('RemoveContainer', { container_id: id });
  for (const p of pods) delete p.containers[name];
}

async function checkRunning(name) {
  const st = await cri.rt('ContainerStatus', { container_id: containerId(name) });
  h.checkEqual(st.status.state, 'CONTAINER_RUNNING', `container ${name} state`);
}

// A container whose process exits on its own: CRI sees it exited, with its status.
async function checkExitedContainer() {
  await startContainer('c', { script: 'exit 3' });
  const st = await h.waitFor('container c to be reported exited', async () => {
    const r = await cri.rt('ContainerStatus', { container_id: pod.containers.c });
    return r.status.state === 'CONTAINER_EXITED' && r.status;
  });
  h.checkEqual(st.exit_code, 3, "container c's exit code");
  await removeContainer('c');
}

// One container of the pod stopped (b's shell exits 0 on SIGTERM, within StopContainer's
// grace period) and removed; the pod's VM serves the other.
async function checkRemoveOne() {
  const t0 = Date.now();
  await cri.rt('StopContainer', { container_id: pod.containers.b, timeout: 30 });
  const st = await cri.rt('ContainerStatus', { container_id: pod.containers.b });
  h.checkEqual(st.status.state, 'CONTAINER_EXITED', 'container b state after StopContainer');
  h.checkEqual(st.status.exit_code, 0, "b's exit code after SIGTERM (its trap exits 0; 137 means it was killed)");
  h.check(Date.now() - t0 < 25000, 'StopContainer of b took the whole grace period: SIGTERM did not reach it');
  await removeContainer('b');
  h.checkEqual(await execOk('a', BOOT_ID), pod.bootId, "a's boot id after b was removed (the same VM)");
}

// readOnlyRootFilesystem: the rootfs refuses writes, yet CRI's bind mounts (resolv.conf,
// hosts, ...) got their mount points in it; removed again afterwards.
async function checkReadonlyRootfs() {
  await startContainer('r', { script: 'exec sleep 100000', readonly: true });
  await checkRunning('r');
  const w = await exec('r', 'echo x > /written');
  h.check(w.code !== 0, 'writing /written in a read-only rootfs succeeded');
  h.check(/Read-only file system/.test(w.err), `writing in a read-only rootfs failed otherwise: ${w.err.trim()}`);
  await execOk('r', 'test -f /etc/resolv.conf');
  await removeContainer('r');
}

// tty: the container's stdout is a terminal, whose output reaches the CRI log as stdout.
async function checkTtyContainer() {
  await startContainer('t', { script: 'echo hello from t; test -t 1 && echo on a tty; exec sleep 100000', tty: true });
  await checkLogs('t', ['stdout F hello from t', 'stdout F on a tty']);
  await removeContainer('t');
}

async function checkStats() {
  const res = await cri.rt('ContainerStats', { container_id: pod.containers.a });
  const { cpu, memory } = res.stats;
  h.check(cpu && cpu.usage_core_nano_seconds && Number(cpu.usage_core_nano_seconds.value) > 0,
    `ContainerStats of a: no CPU usage (${JSON.stringify(cpu)})`);
  h.check(memory && memory.working_set_bytes && Number(memory.working_set_bytes.value) > 0,
    `ContainerStats of a: no memory working set (${JSON.stringify(memory)})`);
}

async function exec(name, script, timeout = 60) {
  const res = await cri.rt(
    'ExecSync',
    { container_id: containerId(name), cmd: ['sh', '-c', script], timeout },
    (timeout + 30) * 1000,
  );
  return { out: res.stdout.toString(), err: res.stderr.toString(), code: res.exit_code };
}

// exec that must succeed; returns its trimmed stdout.
async function execOk(name, script) {
  const r = await exec(name, script);
  if (r.code !== 0) h.fail(`ExecSync in ${name} of '${script}' exited ${r.code}, stderr: ${r.err.trim()}`);
  return r.out.trim();
}

// The kubelet's namespace options: IPC the pod's (a and b join the sandbox's), PID each one's own.
async function checkNamespaces() {
  const ns = async (name) => (await execOk(name, 'for n in ipc pid; do readlink /proc/self/ns/$n; done')).split('\n');
  const [aIpc, aPid] = await ns('a');
  const [bIpc, bPid] = await ns('b');
  h.check(/^ipc:\[\d+\]$/.test(aIpc), `a's IPC namespace is not one: '${aIpc}'`);
  h.checkEqual(bIpc, aIpc, "b's IPC namespace (the pod's, as a's)");
  h.check(bPid !== aPid, `a and b share the PID namespace ${aPid}, though each should have its own`);
}

async function checkBootIds() {
  const a = await execOk('a', BOOT_ID);
  const b = await execOk('b', BOOT_ID);
  h.check(/^[0-9a-f-]{36}$/.test(a), `boot id in a is not a boot id: '${a}'`);
  h.checkEqual(b, a, "b's boot id (must be the same kernel as a's)");
  const host = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  if (handler === 'husk') h.check(a !== host, `the pod's boot id ${a} is the host's: the pod is not in its own VM`);
  else h.checkEqual(a, host, 'runc pod boot id (the host kernel)');
  pod.bootId = a;
}

async function checkOwnRootfs() {
  await execOk('a', 'echo a > /only-in-a && cat /only-in-a');
  const r = await exec('b', 'test -e /only-in-a');
  h.checkEqual(r.code, 1, "exit code of 'test -e /only-in-a' in b (a's file must not be in b's rootfs)");
  await execOk('a', 'test -e /only-in-a');
}

async function checkExecSync() {
  const r = await exec('a', 'echo out; echo err >&2; exit 7');
  h.checkEqual(r.out, 'out\n', 'ExecSync stdout');
  h.checkEqual(r.err, 'err\n', 'ExecSync stderr');
  h.checkEqual(r.code, 7, 'ExecSync exit code');
}

// CRI log lines: "<RFC3339Nano time> <stdout|stderr> <F|P> <text>".
async function checkLogs(name, want = [`stdout F hello from ${name}`, `stderr F ${name} to stderr`]) {
  const st = await cri.rt('ContainerStatus', { container_id: containerId(name) });
  const logPath = st.status.log_path;
  h.checkEqual(logPath, path.join(pod.config.log_directory, `${name}.log`), `log path of ${name}`);
  await h.waitFor(`${logPath} holding ${JSON.stringify(want)}`, () => {
    const lines = fs.readFileSync(logPath, 'utf8').split('\n');
    return want.every((w) => lines.some((l) => / /.test(l) && l.slice(l.indexOf(' ') + 1) === w));
  }, 20000);
}

// Every pod of the scenario stopped and removed.
async function stopAndRemovePod() {
  for (const p of pods) {
    await cri.rt('StopPodSandbox', { pod_sandbox_id: p.id });
    const st = await cri.rt('PodSandboxStatus', { pod_sandbox_id: p.id });
    h.checkEqual(st.status.state, 'SANDBOX_NOTREADY', `pod ${p.name} state after StopPodSandbox`);
    for (const [name, id] of Object.entries(p.containers)) {
      const cs = await cri.rt('ContainerStatus', { container_id: id });
      h.checkEqual(cs.status.state, 'CONTAINER_EXITED', `container ${name} state after StopPodSandbox`);
    }
    await cri.rt('RemovePodSandbox', { pod_sandbox_id: p.id });
  }
  const listed = await cri.rt('ListPodSandbox', {});
  h.checkEqual(listed.items.length, 0, 'pods listed after RemovePodSandbox');
  const ctrs = await cri.rt('ListContainers', {});
  h.checkEqual(ctrs.containers.length, 0, 'containers listed after RemovePodSandbox');
}

// A pod's shim's socket: /run/containerd/s/<sha256 of containerd's address/namespace/sandbox id>.
function shimSocket(p) {
  const hash = crypto.createHash('sha256').update(path.join(ctd.address, NS, p.id)).digest('hex');
  return `/run/containerd/s/${hash}`;
}

// No process of the pod (shim, VMM, virtiofsd, husk-vsockd, container), mount, socket or
// state under /run left: everything a pod leaves names its ids or lives under DIR.
async function checkNothingLeft() {
  const ctdPid = Number(fs.readFileSync(ctd.pidFile, 'utf8'));
  const needles = [...ids, dir];
  const procs = () => h.processesMatching(needles, [ctdPid, process.pid]);
  await h.waitFor('every process of the pod to exit', () => procs().length === 0, 20000).catch(() =>
    h.fail(`processes left behind:\n${procs().join('\n')}`),
  );
  const mounts = h.mountsMatching(needles);
  h.check(mounts.length === 0, `mounts left behind:\n${mounts.join('\n')}`);
  const ours = [ctd.address, `${ctd.address}.ttrpc`, path.join(dir, 'ctd-debug.sock')];
  const sockets = h.socketsMatching(needles).filter((s) => !ours.includes(s));
  h.check(sockets.length === 0, `sockets left behind:\n${sockets.join('\n')}`);
  for (const p of pods.filter((q) => q.id)) h.check(!fs.existsSync(shimSocket(p)), `shim socket left behind: ${shimSocket(p)}`);
  const files = h.filesMatching('/run', ids);
  h.check(files.length === 0, `state left behind under /run:\n${files.join('\n')}`);
}

// The pod's pid (the sandbox task's) must survive a containerd restart.
async function sandboxPid() {
  const st = await cri.rt('PodSandboxStatus', { pod_sandbox_id: pod.id, verbose: true });
  const info = JSON.parse(st.info.info || '{}');
  h.check(info.pid > 0, `PodSandboxStatus info has no pid: ${st.info.info}`);
  return info.pid;
}

async function restartContainerd(signal) {
  const pid = await sandboxPid();
  await ctd.stop(signal);
  h.check(h.pidAlive(pid), `sandbox task pid ${pid} died when containerd was stopped by ${signal}`);
  await startContainerd();
  const st = await cri.rt('PodSandboxStatus', { pod_sandbox_id: pod.id });
  h.checkEqual(st.status.state, 'SANDBOX_READY', `pod state after containerd's ${signal} restart`);
  const cs = await cri.rt('ContainerStatus', { container_id: pod.containers.a });
  h.checkEqual(cs.status.state, 'CONTAINER_RUNNING', `container a state after containerd's ${signal} restart`);
  h.checkEqual(await sandboxPid(), pid, `sandbox task pid after containerd's ${signal} restart`);
}

// What the host reads from a TCP server at ip:port, retried while nothing listens yet.
function readFrom(ip, port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: ip, port, timeout: 5000 });
    let data = '';
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => resolve(data));
    sock.on('timeout', () => sock.destroy(new Error('timed out')));
    sock.on('error', reject);
  });
}

// The pod's network: CNI's address (from the test's subnet) on eth0 of every container of the
// pod, and a server in the pod that the host reaches through the test's bridge.
// Pod p's address (CRI's PodSandboxStatus), which must be in the test's subnet.
async function podIp(p) {
  const st = await cri.rt('PodSandboxStatus', { pod_sandbox_id: p.id });
  const ip = st.status.network && st.status.network.ip;
  h.check(ip && ip.startsWith(NET24), `pod ${p.name}'s IP '${ip}' is not in ${process.env.CRI_SUBNET}`);
  return ip;
}

// A container `name` in pod p serving "hello from <pod name>" on SERVER_PORT, one answer per
// connection; returns the line it answers.
async function startServer(name, p = pod) {
  await startContainer(name, { p, script: `exec nc -ll -p ${SERVER_PORT} -e sh -c 'echo hello from ${p.name}'` });
  return `hello from ${p.name}\n`;
}

// What the host reads from ip:port, once the server listens (connects retried).
function hostReads(ip, port) {
  return h.waitFor(`a server answering ${ip}:${port} from the host`, () => readFrom(ip, port), 30000, 200);
}

const eth0Address = "ip -o -4 addr show dev eth0 | awk '{print $4}'";

// The pod's network: CNI's address (from the test's subnet) on eth0 of every container of the
// pod, and a server in the pod that the host reaches through the test's bridge.
async function checkNetwork() {
  const ip = await podIp(pod);
  h.checkEqual(await execOk('a', eth0Address), `${ip}/24`, "a's eth0 address (CNI's)");
  h.checkEqual(await execOk('b', eth0Address), `${ip}/24`, "b's eth0 address (the pod's)");
  const hello = await startServer('s');
  h.checkEqual(await hostReads(ip, SERVER_PORT), hello, `what ${ip}:${SERVER_PORT} answered`);
  await removeContainer('s');
}

// PodSandboxConfig.dns_config is every container's /etc/resolv.conf (containerd writes it
// for the pod and bind-mounts it into each container).
async function checkDns() {
  const want = [
    `search ${DNS.searches.join(' ')}`,
    ...DNS.servers.map((s) => `nameserver ${s}`),
    `options ${DNS.options.join(' ')}`,
  ].join('\n');
  h.checkEqual(await execOk('a', 'cat /etc/resolv.conf'), want, "a's /etc/resolv.conf");
  h.checkEqual(await execOk('b', 'cat /etc/resolv.conf'), want, "b's /etc/resolv.conf");
}

// A client in container `client` connects to ip:SERVER_PORT (retried while nothing listens
// yet) and returns what it read.
function clientReads(client, ip) {
  return h.waitFor(`${client} reading from ${ip}:${SERVER_PORT}`, async () => {
    const r = await exec(client, `nc -w 5 ${ip} ${SERVER_PORT} </dev/null`, 20);
    return r.code === 0 && r.out;
  }, 60000, 500);
}

// twopods: a server in each pod, a client in the other reads its answer, across the CNI bridge.
async function checkPodsTalk() {
  const [ip, peerIp] = [await podIp(pod), await podIp(peer)];
  h.check(ip !== peerIp, `both pods have the address ${ip}`);
  h.checkEqual(await execOk('p', eth0Address), `${peerIp}/24`, "p's eth0 address (the peer pod's)");
  const hello = await startServer('s', pod);
  const peerHello = await startServer('ps', peer);
  h.checkEqual(await clientReads('p', ip), hello, `what ${ip}:${SERVER_PORT} (${pod.name}) answered ${peer.name}`);
  h.checkEqual(await clientReads('a', peerIp), peerHello, `what ${peerIp}:${SERVER_PORT} (${peer.name}) answered ${pod.name}`);
  await removeContainer('s');
  await removeContainer('ps');
}

// Each husk pod is a VM of its own: the two pods' kernels differ when either is husk's.
async function checkTwoKernels() {
  const a = await execOk('a', BOOT_ID);
  const p = await execOk('p', BOOT_ID);
  if (handler === 'husk' || peerHandler === 'husk') h.check(a !== p, `both pods run in the kernel ${a}`);
  else h.checkEqual(p, a, 'the runc pods\' boot ids (the host kernel)');
}

// The nat rules CNI's portmap made for the pod (they name its address and port).
function portmapRules(ip) {
  const nat = execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
  return nat.split('\n').filter((l) => l.includes(`${ip}:${SERVER_PORT}`));
}

// The body of an HTTP GET of http://ip:port/ (status 200), retried while nothing listens yet.
function httpGet(ip, port) {
  const get = () => new Promise((resolve, reject) => {
    const req = http.get({ host: ip, port, path: '/', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
  return h.waitFor(`an HTTP server answering http://${ip}:${port}/ from the host`, get, 30000, 200);
}

// hostport: busybox's httpd in the pod (containerPort SERVER_PORT, hostPort HOST_PORT)
// answers the host at 127.0.0.1:HOST_PORT and at the bridge's address (the host's on the pods'
// network), through CNI portmap's DNAT rule, as well as at the pod's own address.
async function checkHostPort() {
  const ip = await podIp(pod);
  const hello = `hello from ${pod.name}\n`;
  await startContainer('s', {
    script: `mkdir -p /www && echo 'hello from ${pod.name}' >/www/index.html && exec httpd -f -p ${SERVER_PORT} -h /www`,
  });
  h.checkEqual(await httpGet(ip, SERVER_PORT), hello, `GET http://${ip}:${SERVER_PORT}/ (the pod's address)`);
  h.check(portmapRules(ip).some((l) => /-j DNAT/.test(l) && l.includes(`--dport ${HOST_PORT}`)),
    `no DNAT rule from port ${HOST_PORT} to ${ip}:${SERVER_PORT} in iptables-save -t nat`);
  h.checkEqual(await httpGet('127.0.0.1', HOST_PORT), hello, `GET http://127.0.0.1:${HOST_PORT}/`);
  const gw = `${NET24}1`;
  h.checkEqual(await httpGet(gw, HOST_PORT), hello, `GET http://${gw}:${HOST_PORT}/ (the bridge's address)`);
  await removeContainer('s');
  pod.ip = ip;
}

function checkNoPortmapRules() {
  const left = portmapRules(pod.ip);
  h.check(left.length === 0, `nat rules for ${pod.ip}:${SERVER_PORT} left after RemovePodSandbox:\n${left.join('\n')}`);
}

// husk: the pod is one VM, the sandbox task's pid is its QEMU (CRI builds namespace paths
// from that pid, so it must be a live host process).
async function checkOneVm() {
  // "<pid> <argv0> ..." with argv0 a qemu-system-* binary
  const qemus = h.processesMatching([pod.id]).filter((p) => /^\d+ \S*qemu-system-/.test(p));
  h.checkEqual(qemus.length, 1, `QEMU processes naming the pod id (${qemus.join('; ')})`);
  h.checkEqual(Number(qemus[0].split(' ')[0]), await sandboxPid(), "the sandbox task's pid (the pod's QEMU)");
}

// The pod's cgroup, <parent>/<pod id>, on every hierarchy.
const podCgroupDirs = (p) => CG_MOUNTS.map((m) => path.join(m, CG_PARENT, p.id));

// Every host process of the pod is in its cgroup on every hierarchy: runc's pause process;
// husk's shim, QEMU, virtiofsd and husk-vsockd (the processes naming the pod id).
async function checkPodCgroup() {
  const want = path.join(CG_PARENT, pod.id);
  let pids = [await sandboxPid()];
  if (handler === 'husk') {
    const procs = h.processesMatching([pod.id]);
    for (const name of ['containerd-shim-husk-v2', 'qemu-system-', 'virtiofsd', 'husk-vsockd'])
      h.check(procs.some((p) => p.includes(name)), `no ${name} process naming the pod id:\n${procs.join('\n')}`);
    pids = procs.map((p) => Number(p.split(' ')[0]));
  }
  for (const pid of pids) {
    const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
    const outside = lines.filter((l) => l.split(':').slice(2).join(':') !== want);
    h.check(outside.length === 0, `pid ${pid} outside ${want}:\n${outside.join('\n')}`);
  }
  const missing = podCgroupDirs(pod).filter((d) => !fs.existsSync(d));
  h.check(missing.length === 0, `the pod's cgroup missing: ${missing.join(' ')}`);
}

async function checkPodCgroupGone() {
  const left = pods.flatMap(podCgroupDirs).filter((d) => fs.existsSync(d));
  h.check(left.length === 0, `cgroups left after RemovePodSandbox: ${left.join(' ')}`);
}

async function checkExecAfterRestart() {
  h.checkEqual(await execOk('a', 'echo still here'), 'still here', 'ExecSync output after the restart');
  h.checkEqual(await execOk('a', BOOT_ID), pod.bootId, 'boot id after the restart (the same kernel)');
}

const podReady = [
  ['containerd with the CRI plugin ready', startContainerd],
  ['busybox image imported', importImage],
  [`RunPodSandbox (handler ${handler}, CNI bridge network)`, runPod],
];

const start = [
  ...podReady,
  ['container a created and started', async () => {
    await startContainer('a');
    await checkRunning('a');
  }],
];

// The pod's VM dies (its QEMU, the sandbox task pid, killed): every container is reported
// exited, and the pod still goes cleanly.
async function killSandbox() {
  const pid = await sandboxPid();
  process.kill(pid, 'SIGKILL');
  await h.waitFor(`container a reported exited after the sandbox task pid ${pid} was killed`, async () => {
    const r = await cri.rt('ContainerStatus', { container_id: pod.containers.a });
    return r.status.state === 'CONTAINER_EXITED';
  }, 30000, 200);
  const st = await cri.rt('PodSandboxStatus', { pod_sandbox_id: pod.id });
  h.checkEqual(st.status.state, 'SANDBOX_NOTREADY', 'pod state after its sandbox task died');
  const err = await cri.rt('StartContainer', { container_id: pod.containers.b }).then(() => null, (e) => e);
  h.check(err, 'StartContainer of b succeeded in a pod whose VM is gone');
  console.log(`# StartContainer of b: ${err.message}`);
}

// shareProcessNamespace: the pod's containers see the sandbox's process as pid 1 and each
// other's processes; one of them stopped leaves the others running.
async function checkSharedPids() {
  const ps = async (name) => execOk(name, "ps -o args | grep '^sleep'");
  const want = ['sleep 2147483647', 'sleep 100001', 'sleep 100002'];
  h.checkEqual(await ps('a'), want.join('\n'), "the processes a sees (the sandbox's, a's and b's)");
  h.checkEqual(await ps('b'), want.join('\n'), 'the processes b sees');
  h.checkEqual(await execOk('b', 'cat /proc/1/cmdline | tr "\\0" " "'), want[0], "pid 1 in b (the sandbox's process)");
  await removeContainer('a');
  h.checkEqual(await ps('b'), [want[0], want[2]].join('\n'), 'the processes b sees once a is removed');
}

// The privileged container is root of its VM: the links, nftables table and mounts it makes
// (its /dev is the guest's tmpfs: tun and fuse nodes are made there, CRI listing no host
// device) exist in the guest; the host (its own and every named network namespace, its
// nftables, its mount table) has none of them.
async function checkPrivileged() {
  const n = process.pid % 100000;
  const [br, veth, tap, tbl] = [`hb${n}`, `hv${n}`, `ht${n}`, `hn${n}`];
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const made = await execOk('a', `set -e
    ip link add ${br} type bridge; ip link add ${veth} type veth
    mkdir -p /dev/net; mknod /dev/net/tun c 10 200; tunctl -t ${tap} >/dev/null
    /usr/sbin/nft add table ip ${tbl}
    /usr/sbin/nft add chain ip ${tbl} post '{ type nat hook postrouting priority 100; }'
    /usr/sbin/nft add rule ip ${tbl} post oifname ${br} masquerade
    mkdir -p /mnt/p; mount -t tmpfs tmpfs /mnt/p; cd /mnt/p; mkdir l u w m u2 w2 o; echo low >l/f
    mount -t overlay overlay -o lowerdir=l,upperdir=u,workdir=w m
    mknod /dev/fuse c 10 229; /usr/bin/fuse-overlayfs -o lowerdir=l,upperdir=u2,workdir=w2 o
    ip -o link | grep -o '${br}\\|${veth}\\|${tap}' | sort -u | wc -l
    /usr/sbin/nft list table ip ${tbl} | grep -o masquerade
    grep -c ' /mnt/p/m overlay ' /proc/mounts; grep -c ' /mnt/p/o fuse' /proc/mounts; cat m/f o/f`);
  h.checkEqual(made, '3\nmasquerade\n1\n1\nlow\nlow', 'links, NAT rule, overlay and fuse mounts in the privileged container');
  const onHost = execFileSync('sh', ['-c', `for l in ${br} ${veth} ${tap}; do ip -o link show $l 2>/dev/null;
    for ns in $(ip netns list | cut -d' ' -f1); do ip -n "$ns" -o link show $l 2>/dev/null; done; done
    nft list table ip ${tbl} 2>/dev/null; true`]);
  h.checkEqual(onHost.toString(), '', 'the links or the nftables table on the host or in a network namespace of it');
  h.checkEqual(fs.readFileSync('/proc/self/mountinfo', 'utf8'), mounts, "the host's mount table");
}

// noNewPrivileges decides, not the mount: uid 1000 gets euid 0 from a setuid-root program.
async function checkSetuid() {
  await startContainer('u', { security: { run_as_user: { value: 1000 }, no_new_privs: false } });
  await startContainer('v', { security: { run_as_user: { value: 1000 }, no_new_privs: true } });
  h.checkEqual(await execOk('u', '/bin/euid'), '1000 0', 'uid and euid of /bin/euid (setuid root)');
  h.checkEqual(await execOk('v', '/bin/euid'), '1000 1000', 'uid and euid of /bin/euid with no_new_privs');
}

// hostNetwork, hostIPC and hostPID (namespace_options NODE): RunPodSandbox fails with husk's
// line naming why, and leaves no pod, process or state.
const listDir = (d) => (fs.existsSync(d) ? fs.readdirSync(d).sort().join(' ') : '');
// the shims' state dirs and sockets, to compare before and after a refusal
const shimStates = () => `${listDir('/run/husk-v2')} | ${listDir('/run/containerd/s')}`;

async function checkHostNamespacesRefused() {
  const states = shimStates;
  const stateBefore = states();
  const cases = [
    ['network', "linux.namespaces: no network namespace: a VM cannot share the host's network"],
    ['ipc', "linux.namespaces: no ipc namespace: a VM cannot share the host's IPC"],
    ['pid', "linux.namespaces: no pid namespace: a VM cannot share the host's processes"],
  ];
  for (const [ns, want] of cases) {
    const config = podConfig(pod);
    config.linux.security_context.namespace_options = { ...NAMESPACES, [ns]: 'NODE' };
    const err = await cri.rt('RunPodSandbox', { config, runtime_handler: pod.handler }).then(() => null, (e) => e);
    h.check(err, `RunPodSandbox with host ${ns} succeeded`);
    h.check(err.message.includes(want), `RunPodSandbox with host ${ns}: "${want}" not in: ${err.message}`);
  }
  const list = await cri.rt('ListPodSandbox', {});
  h.checkEqual((list.items || []).length, 0, 'pods after the refusals');
  h.checkEqual(states(), stateBefore, 'entries of /run/husk-v2 | the shim sockets in /run/containerd/s');
}

// Two containers of a 300 MiB limit each hold 250 MiB at once (dd's buffer, kept while dd
// waits to write it to a pipe nobody reads): the VM was sized from the pod cgroup's limit,
// which the test set as the kubelet does (the limits plus the RuntimeClass overhead).
const HOLD_MIB = 250;
const HOLD = `dd if=/dev/zero bs=${HOLD_MIB}M count=1 2>/dev/null | sleep 100000`;

async function startHolders() {
  for (const name of ['a', 'b'])
    await startContainer(name, { script: HOLD, resources: { memory_limit_in_bytes: 300 * 1024 * 1024 } });
  for (const name of ['a', 'b']) {
    // not yet: an Error (not a failed check) that waitFor reports with its timeout
    const holding = async () => {
      const r = await exec(name, 'grep VmRSS /proc/$(pidof dd)/status; ps -o pid,args');
      // resident: all of the buffer but a few pages dd never wrote to (less than 1 MiB)
      if (Number(r.out.replace(/^VmRSS:\s*(\d+).*/s, '$1')) >= (HOLD_MIB - 1) * 1024) return true;
      throw new Error(`${r.out.trim()} ${r.err.trim()}`.replace(/\s+/g, ' '));
    };
    await h.waitFor(`${name}'s dd holding ${HOLD_MIB} MiB`, holding, 120000);
  }
}

async function checkHoldersAlive() {
  for (const name of ['a', 'b']) await checkRunning(name);
  const total = Number(await execOk('a', "grep MemTotal /proc/meminfo | tr -dc 0-9"));
  h.check(total > 2 * HOLD_MIB * 1024, `the guest's MemTotal ${total} kB holds less than both containers`);
}

// husk metrics through tests/integration/promcheck.py (the Prometheus client's parser): the
// samples of the pod's sandbox, 'NAME LABELS' -> value.
function podMetrics() {
  const text = execFileSync(process.env.HUSK_CLI, ['metrics']);
  const checked = execFileSync('/usr/bin/python3', [path.join(__dirname, '../integration/promcheck.py')],
    { input: text }).toString();
  const samples = {};
  for (const line of checked.split('\n')) {
    const [name, labels, value] = line.split(' ');
    const l = Object.fromEntries((labels || '').split(',').map((kv) => kv.split('=')));
    if (l.sandbox === pod.id) samples[`${name} ${labels}`] = Number(value);
  }
  return samples;
}

function podSample(samples, name, extra = '') {
  const labels = [`pod_name=${pod.name}`, 'pod_namespace=husk-test', `sandbox=${pod.id}`, extra]
    .filter(Boolean).sort().join(',');
  const v = samples[`${name} ${labels}`];
  h.check(v !== undefined, `husk metrics: no ${name}{${labels}}; the pod's samples: ${JSON.stringify(samples)}`);
  return v;
}

async function checkPodMetrics() {
  const m = podMetrics();
  h.checkEqual(podSample(m, 'husk_sandbox_state', 'state=running'), 1, 'the pod\'s state sample');
  h.check(podSample(m, 'husk_guest_memory_total_bytes') > 0, 'the guest\'s memory');
  h.check(podSample(m, 'husk_host_process_pss_bytes', 'process=qemu') > 0, 'QEMU\'s PSS');
  h.check(podSample(m, 'husk_guest_containers') >= 1, 'the guest\'s containers');
  pod.execs = podSample(m, 'husk_exec_seconds_count');
}

// `ctr tasks metrics` (containerd's task service, as the CRI's stats ask it): the pod sandbox
// (pause) task's figures are the host's side (the shim and every process under it, QEMU holding
// the guest's RAM), a container's the guest's.
function taskMetrics(id) {
  const out = execFileSync('ctr', ['--address', ctd.address, '-n', NS, 'tasks', 'metrics', '--format', 'json', id], {
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

async function checkTaskMetrics() {
  const host = taskMetrics(pod.id);
  const guest = taskMetrics(containerId('a'));
  const shown = `the pod's ${JSON.stringify(host)}, a's ${JSON.stringify(guest)}`;
  console.log(`# host: ${host.pids.current} processes, ${host.memory.usage >> 20} MiB, ${host.cpu.usage_usec} us CPU; ` +
    `a in the guest: ${guest.pids.current} processes, ${guest.memory.usage >> 10} KiB, ${guest.cpu.usage_usec} us CPU`);
  h.check(host.pids.current >= 5, `the pod's host processes (shim, QEMU, husk-vsockd, virtiofsd and its child): ${shown}`);
  h.check(host.memory.usage > 64 * 2 ** 20 && host.memory.usage > guest.memory.usage, `the pod's host memory: ${shown}`);
  h.check(host.cpu.usage_usec > guest.cpu.usage_usec, `the pod's host CPU: ${shown}`);
  h.check(guest.pids.current >= 1 && guest.memory.usage > 0, `a's guest figures: ${shown}`);
}

async function checkExecCounted() {
  await execOk('a', 'true');
  const execs = podSample(podMetrics(), 'husk_exec_seconds_count');
  h.checkEqual(execs, pod.execs + 1, 'the exec counter after one ExecSync');
}

function checkMetricsGone() {
  const left = Object.keys(podMetrics());
  h.checkEqual(left.length, 0, `husk metrics still has the removed pod: ${left.join('; ')}`);
}

// The test set the pod cgroup's memory limit above the host's memory: the pod is refused with
// both figures, and nothing of it is left.
async function checkTooBigRefused() {
  const before = shimStates();
  const err = await cri.rt('RunPodSandbox', { config: podConfig(pod), runtime_handler: pod.handler })
    .then(() => null, (e) => e);
  h.check(err, 'RunPodSandbox of a pod larger than the host succeeded');
  const want = /the pod's memory limit \(its cgroup's\) is \d+ MiB, more than this host's \d+ MiB/;
  h.check(want.test(err.message), `RunPodSandbox: ${want} not in: ${err.message}`);
  const list = await cri.rt('ListPodSandbox', {});
  h.checkEqual((list.items || []).length, 0, 'pods after the refusal');
  h.checkEqual(shimStates(), before, 'entries of /run/husk-v2 | the shim sockets in /run/containerd/s');
  const cgroups = CG_MOUNTS.flatMap((m) => fs.readdirSync(path.join(m, CG_PARENT), { withFileTypes: true })
    .filter((e) => e.isDirectory()).map((e) => path.join(m, CG_PARENT, e.name)));
  h.checkEqual(cgroups.join(' '), '', 'cgroups left under the pods\' parent');
}

const scenarios = {
  pod: [
    ...start,
    ['container b created and started in the same pod', async () => {
      await startContainer('b', {
        script: 'echo hello from b; echo b to stderr >&2; trap "exit 0" TERM; sleep 100000 & wait',
      });
      await checkRunning('b');
    }],
    ['a and b share one kernel (boot id)', checkBootIds],
    ["the pod has CNI's address in every container; a server in it answers the host", checkNetwork],
    ["every container's /etc/resolv.conf is the pod's DNS config", checkDns],
    ["a and b share the pod's IPC namespace, each has its own PID one", checkNamespaces],
    ...(handler === 'husk' ? [['one QEMU for the pod, its pid the sandbox task pid', checkOneVm]] : []),
    ["every host process of the pod in its cgroup (cgroup_parent/pod id) on every hierarchy", checkPodCgroup],
    ['a and b have their own rootfs', checkOwnRootfs],
    ['ExecSync returns stdout, stderr and the exit code', checkExecSync],
    ["a's CRI log file has its stdout and stderr", () => checkLogs('a')],
    ["b's CRI log file has its stdout and stderr", () => checkLogs('b')],
    ['ContainerStats reports CPU and memory', checkStats],
    ['a container that exits 3 is reported exited with status 3', checkExitedContainer],
    ['a container with a read-only rootfs', checkReadonlyRootfs],
    ['a container on a terminal (tty) logs to the CRI log', checkTtyContainer],
    ['b stopped and removed; a still served by the same kernel', checkRemoveOne],
    ['StopPodSandbox and RemovePodSandbox', stopAndRemovePod],
    ['nothing of the pod left behind', checkNothingLeft],
    ["the pod's cgroup removed with it", checkPodCgroupGone],
  ],
  sharedpid: [
    ...podReady,
    ['containers a and b started in the pod PID namespace', async () => {
      await startContainer('a', { script: 'exec sleep 100001' });
      await startContainer('b', { script: 'exec sleep 100002' });
    }],
    ['a and b see the sandbox and each other; a removed, b lives on', checkSharedPids],
    ['StopPodSandbox and RemovePodSandbox', stopAndRemovePod],
    ['nothing of the pod left behind', checkNothingLeft],
  ],
  twopods: [
    ...start,
    [`a second pod (handler ${peerHandler}) on the same network, container p in it`, async () => {
      await runPod(peer);
      await startContainer('p', { p: peer });
      await checkRunning('p');
    }],
    ['each pod in its own kernel when either is husk\'s', checkTwoKernels],
    ['a server in each pod answers a client in the other', checkPodsTalk],
    ['StopPodSandbox and RemovePodSandbox of both', stopAndRemovePod],
    ['nothing of either pod left behind', checkNothingLeft],
    ["the pods' cgroups removed with them", checkPodCgroupGone],
  ],
  privileged: [
    ...podReady,
    ['privileged container a created and started', async () => {
      await startContainer('a', { security: { privileged: true } });
      await checkRunning('a');
    }],
    ['a makes a bridge, veth, tap, NAT rule, overlay and fuse mount in the VM; the host sees none', checkPrivileged],
    ['containers of uid 1000 run a setuid-root program, with and without no_new_privs', checkSetuid],
    ['StopPodSandbox and RemovePodSandbox', stopAndRemovePod],
    ['nothing of the pod left behind', checkNothingLeft],
  ],
  sizing: [
    ...podReady,
    [`containers a and b (limit 300 MiB) each hold ${HOLD_MIB} MiB at once`, startHolders],
    ['both still run; the guest has memory for both', checkHoldersAlive],
    ['StopPodSandbox and RemovePodSandbox', stopAndRemovePod],
    ['nothing of the pod left behind', checkNothingLeft],
  ],
  toobig: [
    ['containerd with the CRI plugin ready', startContainerd],
    ['busybox image imported', importImage],
    ['a pod whose cgroup allows more memory than the host has is refused with both figures', checkTooBigRefused],
    ['nothing of the refused pod left behind', checkNothingLeft],
  ],
  hostns: [
    ['containerd with the CRI plugin ready', startContainerd],
    ['busybox image imported', importImage],
    ['hostNetwork, hostIPC and hostPID pods refused with the reason', checkHostNamespacesRefused],
    ['nothing of the refused pods left behind', checkNothingLeft],
  ],
  metrics: [
    ...start,
    ['husk metrics: the pod by its CRI name and namespace, running, its guest\'s figures', checkPodMetrics],
    ['task metrics: the sandbox task\'s are the pod\'s host side, a container\'s its guest\'s', checkTaskMetrics],
    ['an ExecSync moves the pod\'s exec counter by one', checkExecCounted],
    ['StopPodSandbox and RemovePodSandbox', stopAndRemovePod],
    ['husk metrics no longer has the pod', checkMetricsGone],
    ['nothing of the pod left behind', checkNothingLeft],
  ],
  hostport: [
    ...start,
    [`an HTTP server in the pod answers the host at 127.0.0.1:${HOST_PORT} and the bridge's address`, checkHostPort],
    ['StopPodSandbox and RemovePodSandbox', stopAndRemovePod],
    ["CNI's nat rules for the pod removed with it", checkNoPortmapRules],
    ['nothing of the pod left behind', checkNothingLeft],
  ],
  vmdies: [
    ...start,
    ['container b created, not started', () => startContainer('b', { start: false })],
    ['the sandbox task killed; a is reported exited, b fails to start', killSandbox],
    ['StopPodSandbox and RemovePodSandbox', stopAndRemovePod],
    ['nothing of the pod left behind', checkNothingLeft],
    ["the pod's cgroup removed with it", checkPodCgroupGone],
  ],
  restart: [
    ...start,
    ['ExecSync before the restart', async () => {
      pod.bootId = await execOk('a', BOOT_ID);
    }],
    ['containerd stopped (SIGTERM) and started again; the pod still ready', () => restartContainerd('SIGTERM')],
    ['ExecSync after the restart', checkExecAfterRestart],
    ['containerd killed (SIGKILL) and started again; the pod still ready', () => restartContainerd('SIGKILL')],
    ['ExecSync after the second restart', checkExecAfterRestart],
    ['StopPodSandbox and RemovePodSandbox', stopAndRemovePod],
    ['nothing of the pod left behind', checkNothingLeft],
  ],
};

async function main() {
  const subnetOk = /^\d+\.\d+\.\d+\.0\/24$/.test(process.env.CRI_SUBNET || '');
  const handlers = ['runc', 'husk'];
  if (!scenarios[scenario] || !handlers.includes(handler) || !handlers.includes(peerHandler) || !dir ||
    (['vmdies', 'privileged', 'hostns', 'sizing', 'metrics', 'toobig'].includes(scenario) && handler !== 'husk') || (scenario === 'hostport' && !(HOST_PORT > 0 && HOST_PORT < 65536)) ||
    !process.env.CRI_BRIDGE || !subnetOk) {
    console.error(`usage: CRI_DIR=DIR CRI_IMAGE_TAR=TAR CRI_BRIDGE=NAME CRI_SUBNET=A.B.C.0/24 [CRI_HOSTPORT=PORT] [HUSK_SHIM=.. HUSK_CONFIG=..] node pod.js ${Object.keys(scenarios).join('|')} runc|husk [runc|husk]`);
    process.exit(2);
  }
  ctd = new Containerd({
    dir,
    sandboxImage: IMAGE,
    huskShim: process.env.HUSK_SHIM,
    huskConfig: process.env.HUSK_CONFIG,
    network: {
      name: 'husk-test',
      bridge: process.env.CRI_BRIDGE,
      subnet: process.env.CRI_SUBNET,
      gateway: `${NET24}1`,
      ipamDir: path.join(dir, 'cni', 'ipam'),
      portmap: scenario === 'hostport',
    },
  });
  const status = await h.runSteps(`cri ${scenario} (${handler})`, scenarios[scenario], {
    onFailure: () => {
      console.log(`--- containerd log (${ctd.log}, with the shims' logs), last lines:\n${ctd.logTail()}`);
      for (const p of pods) {
        const consoleLog = p.id && h.fileTail(`/run/husk-v2/${p.id}/console.log`, `pod ${p.name}'s VM's console`);
        if (consoleLog) console.log(consoleLog);
      }
    },
  });
  await ctd.stop();
  if (cri) cri.close();
  process.exit(status);
}

main();
