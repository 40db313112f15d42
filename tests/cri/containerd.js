'use strict';
// A private containerd for the CRI tests: its own config, root, state and sockets under one
// directory, the CRI plugin with the runc handler (the default) and, when a shim path is given,
// the husk handler. Started detached (its pid in DIR/containerd.pid, so the bats teardown can
// kill it even if this process dies) and restartable with the same config and state.
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { tail } = require('./harness');

const CRI = 'plugins."io.containerd.grpc.v1.cri"';
const CNI_BIN_DIR = '/usr/lib/cni'; // Debian's containernetworking-plugins

// The pods' network: a bridge of this test's own (its gateway address on the host), addresses
// from a /24 of its own (host-local, state under DIR), no masquerading (no iptables rules to
// leave behind). The bridge itself outlives the pods: the bats teardown deletes it. With
// net.portmap, CNI's portmap plugin maps the pods' hostPorts (iptables nat rules, removed with
// each pod; the chains it shares between pods stay: the bats teardown removes those).
function cniConflist(net) {
  const portmap = { type: 'portmap', capabilities: { portMappings: true } };
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: net.name,
    plugins: [
      {
        type: 'bridge',
        bridge: net.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: net.subnet, gateway: net.gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: net.ipamDir,
        },
      },
      ...(net.portmap ? [portmap] : []),
    ],
  });
}

// The husk handler is configs/containerd-husk.toml, the snippet users are told to merge,
// with this build's shim and the test's husk.json in place of the installed paths.
function huskSection(opts) {
  const snippet = fs.readFileSync(path.resolve(__dirname, '../../configs/containerd-husk.toml'), 'utf8');
  let replaced = 0;
  const set = (key, value) => (line) => {
    if (!new RegExp(`^\\s*${key}\\s*=`).test(line)) return line;
    replaced++;
    return `  ${key} = ${JSON.stringify(value)}`;
  };
  const lines = snippet
    .split('\n')
    .filter((l) => !/^version\s*=/.test(l))
    .map(set('runtime_path', opts.huskShim))
    .map(set('ConfigPath', opts.huskConfig));
  if (replaced !== 2) throw new Error('configs/containerd-husk.toml: no runtime_path or ConfigPath to point at this build');
  return lines.join('\n');
}

function runtimeSections(opts) {
  const runc = `
[${CRI}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[${CRI}.containerd.runtimes.runc.options]
  Root = "${opts.dir}/runc"
`;
  return opts.huskShim ? runc + huskSection(opts) : runc;
}

// Pods get their network from Debian's CNI plugins (a bridge of the test's own, see cniConflist);
// the stream server listens on a free port so several containerds can run at once;
// restrict_oom_score_adj because the test host may itself be a container whose oom_score_adj
// cannot be lowered.
function configToml(opts) {
  return `version = 2
root = "${opts.dir}/root"
state = "${opts.dir}/state"
[grpc]
  address = "${opts.dir}/ctd.sock"
[ttrpc]
  address = "${opts.dir}/ctd.sock.ttrpc"
[debug]
  address = "${opts.dir}/ctd-debug.sock"
  level = "debug"
[${CRI}]
  sandbox_image = "${opts.sandboxImage}"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  disable_apparmor = true
[${CRI}.cni]
  bin_dir = "${CNI_BIN_DIR}"
  conf_dir = "${opts.dir}/cni/net.d"
[${CRI}.containerd]
  default_runtime_name = "runc"
  snapshotter = "${opts.snapshotter || 'overlayfs'}"
${runtimeSections(opts)}`;
}

class Containerd {
  // opts: dir (absolute, short: it holds Unix sockets), sandboxImage, huskShim, huskConfig,
  // network (name, bridge, subnet, gateway, ipamDir, portmap: see cniConflist)
  constructor(opts) {
    this.opts = opts;
    this.dir = opts.dir;
    this.config = path.join(this.dir, 'containerd.toml');
    this.log = path.join(this.dir, 'containerd.log');
    this.pidFile = path.join(this.dir, 'containerd.pid');
    this.address = path.join(this.dir, 'ctd.sock');
    this.endpoint = `unix://${this.address}`;
    this.child = null;
    fs.mkdirSync(path.join(this.dir, 'cni', 'net.d'), { recursive: true });
    if (opts.network) {
      fs.writeFileSync(path.join(this.dir, 'cni', 'net.d', '10-husk-test.conflist'), cniConflist(opts.network));
    }
    fs.writeFileSync(this.config, configToml(opts));
  }

  start() {
    const log = fs.openSync(this.log, 'a');
    // containerd 1.6.20 starts a pod sandbox's shim by runtime_type on its PATH, ignoring
    // runtime_path (which it uses for the pod's containers)
    const env = { ...process.env };
    if (this.opts.huskShim) env.PATH = `${path.dirname(this.opts.huskShim)}:${env.PATH}`;
    this.child = spawn('containerd', ['--config', this.config], {
      detached: true,
      env,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, sig) => resolve(sig || code)));
    this.child.unref();
    fs.writeFileSync(this.pidFile, `${this.child.pid}\n`);
  }

  running() {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  exitStatus() {
    return this.child ? this.child.signalCode || this.child.exitCode : 'not started';
  }

  // signal (SIGTERM: a clean stop; SIGKILL: a crash), then SIGKILL if containerd has not
  // exited within the bound.
  async stop(signal = 'SIGTERM', timeoutMs = 10000) {
    if (!this.child) return;
    const child = this.child;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    if ((await Promise.race([this.exited, timeout])) === 'timeout') {
      child.kill('SIGKILL');
      await this.exited;
    }
    clearTimeout(timer);
    fs.rmSync(this.pidFile, { force: true });
  }

  // The last lines of containerd's log, for failure messages.
  logTail(lines = 40) {
    return tail(this.log, lines);
  }
}

module.exports = { Containerd, configToml };
