'use strict';
// A CRI client (runtime.v1 RuntimeService and ImageService over gRPC) built from Kubernetes'
// api.proto. Every call has a deadline and fails with "CRI <Method>: <cause>".
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

// Kubernetes' CRI api.proto is not part of the repository: it is found in the nearest
// shared/third_party/cri-api/ above it (beside the clone, as in CI), or at $CRI_API_PROTO.
function apiProtoPath() {
  if (process.env.CRI_API_PROTO) {
    if (!fs.existsSync(process.env.CRI_API_PROTO)) throw new Error(`CRI_API_PROTO ${process.env.CRI_API_PROTO}: no such file`);
    return process.env.CRI_API_PROTO;
  }
  for (let d = path.resolve(__dirname, '../..'); d !== path.dirname(d); d = path.dirname(d)) {
    const p = path.join(path.dirname(d), 'shared/third_party/cri-api/api.proto');
    if (fs.existsSync(p)) return p;
  }
  throw new Error('CRI api.proto not found: set CRI_API_PROTO or put shared/third_party/cri-api/api.proto beside the repository');
}

// api.proto imports gogo.proto only for Go code generation options: drop those lines.
function loadApi(workDir) {
  const src = fs.readFileSync(apiProtoPath(), 'utf8');
  const stripped = path.join(workDir, 'cri-api.proto');
  fs.writeFileSync(stripped, src.split('\n').filter((l) => !l.includes('gogo')).join('\n'));
  const def = protoLoader.loadSync(stripped, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(def).runtime.v1;
}

class CriClient {
  constructor(endpoint, workDir) {
    const api = loadApi(workDir);
    this.runtime = new api.RuntimeService(endpoint, grpc.credentials.createInsecure());
    this.image = new api.ImageService(endpoint, grpc.credentials.createInsecure());
  }

  call(service, method, req, timeoutMs) {
    const deadline = new Date(Date.now() + timeoutMs);
    return new Promise((resolve, reject) => {
      service[method](req, { deadline }, (err, res) => {
        if (err) reject(new Error(`CRI ${method}: ${err.details || err.message}`));
        else resolve(res);
      });
    });
  }

  // rt('RunPodSandbox', {...}) / img('ListImages', {}); timeouts are generous: under TCG a
  // husk pod boots a VM.
  rt(method, req = {}, timeoutMs = 120000) {
    return this.call(this.runtime, method, req, timeoutMs);
  }

  img(method, req = {}, timeoutMs = 30000) {
    return this.call(this.image, method, req, timeoutMs);
  }

  close() {
    this.runtime.close();
    this.image.close();
  }
}

module.exports = { CriClient, apiProtoPath };
