// Install test: starts mirrorgate-webhook and mirrorgate-reconciler with exactly the command,
// args and environment of their Deployments as `kubectl kustomize manifests/` renders them,
// the way the kubelet would, against kube-sim (the API server) and ontap-sim:
// - in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT and the service-account
//   directory (token, ca.crt, namespace) at /var/run/secrets/kubernetes.io/serviceaccount;
// - env from `value`, `fieldRef` (metadata.name/namespace) and `envFrom` ConfigMaps of the
//   same render;
// - each volume's ConfigMap/Secret keys as files at its mountPath, owned by root with group
//   fsGroup and the volume's defaultMode, as the kubelet writes them;
// - the process runs as the pod's runAsUser/runAsGroup with fsGroup as supplementary group,
//   chrooted into a root that has the host's /usr (the binaries' libraries) and these mounts.
// The ONTAP backend's ConfigMap and Secret hold placeholders in the shipped manifests (the
// user fills them in); the test fills them in with ontap-sim's address and credentials. The
// serving certificate comes from the Job of manifests/overlays/self-signed-certs
// (mirrorgate-cert-rotator, run the same way), which also sets both caBundles.
// It then shows that the shipped webhook denies an orphan secondary PVC, admits a valid one,
// and sees the topology the reconciler published (a TMR naming an unpeered SVM is denied).
// Needs root and its own network and mount namespaces: the Deployments' fixed ports (8443,
// 8080) and mounts stay private. Run through `make test-manifests`:
//   scripts/test-manifests.sh
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as http from "node:http";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";

// WORK is an empty directory the caller removes after this namespace is gone (the pods'
// roots have /usr, /dev and /proc mounted in them while it lives: never delete them here).
const [repo, bin, work] = process.argv.slice(2);
if (!work || fs.readdirSync(work).length) {
	console.error("usage: node install.mjs REPO_DIR BIN_DIR EMPTY_WORK_DIR (see scripts/test-manifests.sh)");
	process.exit(2);
}
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
const procs = [];
let passed = 0, failed = 0;
function check(ok, what, detail) {
	if (ok)
		passed++;
	else
		failed++;
	console.log(`${ok ? "ok  " : "FAIL"} ${what}${!ok && detail ? ": " + detail : ""}`);
	return ok;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function finish(code) {
	for (const p of procs)
		try { p.kill("SIGTERM"); } catch (e) { /* gone */ }
	console.log(`install: ${passed} passed, ${failed} failed`);
	process.exit(failed || code ? 1 : 0);
}
process.on("uncaughtException", (e) => { console.log(`FAIL ${e.stack}`); failed++; finish(1); });

function start(name, argv, opts = {}) {
	const log = fs.openSync(path.join(work, `${name}.log`), "w");
	const p = spawn(argv[0], argv.slice(1), { stdio: ["ignore", log, log], ...opts });
	p.on("error", (e) => { console.log(`FAIL cannot start ${name}: ${e.message}`); failed++; finish(1); });
	procs.push(p);
	return p;
}
async function waitFor(what, fn, ms = 30000) {
	const end = Date.now() + ms;
	let last;
	while (Date.now() < end) {
		try {
			last = await fn();
			if (last)
				return last;
		} catch (e) {
			last = e.message;
		}
		await sleep(200);
	}
	throw new Error(`timed out waiting for ${what} (${last})`);
}
function request(url, { method = "GET", body, ca, token, servername } = {}) {
	return new Promise((resolve, reject) => {
		const u = new URL(url);
		const mod = u.protocol === "https:" ? https : http;
		const headers = { "Content-Type": "application/json" };
		if (token)
			headers.Authorization = `Bearer ${token}`;
		const req = mod.request(u, { method, ca, headers, servername, timeout: 5000 }, (res) => {
			let data = "";
			res.on("data", (c) => (data += c));
			res.on("end", () => resolve({ status: res.statusCode, body: data }));
		});
		req.on("error", reject);
		req.on("timeout", () => req.destroy(new Error("timeout")));
		if (body)
			req.write(typeof body === "string" ? body : JSON.stringify(body));
		req.end();
	});
}

// ---- the render ----
const rendered = parseAllDocuments(execFileSync("kubectl", ["kustomize", `${repo}/manifests`],
	{ encoding: "utf8" })).map((d) => d.toJS()).filter((o) => o);
const find = (kind, name) => rendered.find((o) => o.kind === kind && o.metadata.name === name);
// Without cert-manager: the same Deployments plus the certificate rotator's Job.
const selfSigned = parseAllDocuments(execFileSync("kubectl", ["kustomize",
	`${repo}/manifests/overlays/self-signed-certs`], { encoding: "utf8" })).map((d) => d.toJS())
	.filter((o) => o);
const NS = find("Deployment", "mirrorgate-webhook").metadata.namespace;

// ---- the simulators ----
const token = "install-test-" + process.pid;
fs.writeFileSync(path.join(work, "tokens"), token + "\n");
start("kube-sim", [`${bin}/kube-sim`, "--crds", `${repo}/manifests/crds`, "--port", "6443",
	"--port-file", path.join(work, "kube.port"), "--ca-out", path.join(work, "kube-ca.crt"),
	"--token-file", path.join(work, "tokens"), "--log-level", "warn"]);
start("ontap-sim", [`${bin}/ontap-sim`, "--ports-file", path.join(work, "ontap.json"),
	"--ca-out", path.join(work, "ontap-ca.pem"), "--realtime"]);
await waitFor("kube-sim", () => fs.existsSync(path.join(work, "kube.port")));
await waitFor("ontap-sim", () => fs.existsSync(path.join(work, "ontap.json")));
const kubeCA = fs.readFileSync(path.join(work, "kube-ca.crt"));
const kube = (method, p, body) => request(`https://127.0.0.1:6443${p}`,
	{ method, body, ca: kubeCA, token }).then((r) => {
	if (r.status >= 300 && !(method === "POST" && r.status === 409))
		throw new Error(`${method} ${p}: ${r.status} ${r.body}`);
	return r.body ? JSON.parse(r.body) : null;
});
const ontap = JSON.parse(fs.readFileSync(path.join(work, "ontap.json"), "utf8"));
const clusterB = ontap.clusters.find((c) => c.name === "cluster-b");

// What the user applies with the install: the namespaces and the filled-in backend.
await kube("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace",
	metadata: { name: NS } });
await kube("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace",
	metadata: { name: "app" } });
const config = structuredClone(find("ConfigMap", "mirrorgate-reconciler"));
config.data["config.yaml"] = config.data["config.yaml"]
	.replace(/managementLIF: .*/, `managementLIF: ${clusterB.url}`);
const backend = structuredClone(find("Secret", "mirrorgate-ontap-b"));
backend.stringData = { credentials: "username: admin\npassword: password-b\n",
	"ca.pem": fs.readFileSync(path.join(work, "ontap-ca.pem"), "utf8") };
// The serving Secret is filled in below by the rotator Job (components/self-signed-certs).
let servingSecret = null;

// ---- the kubelet ----
function volumeFiles(vol) {
	if (vol.configMap) {
		const cm = vol.configMap.name === config.metadata.name ? config
			: find("ConfigMap", vol.configMap.name);
		return { data: cm.data, mode: vol.configMap.defaultMode ?? 0o644 };
	}
	if (vol.secret) {
		const s = vol.secret.secretName === backend.metadata.name ? backend
			: vol.secret.secretName === servingSecret.metadata.name ? servingSecret
				: find("Secret", vol.secret.secretName);
		return { data: s.stringData, mode: vol.secret.defaultMode ?? 0o644 };
	}
	throw new Error(`volume ${vol.name}: only configMap and secret volumes are handled`);
}

function envOf(pod, c, podName) {
	const env = {};
	for (const ef of c.envFrom || []) {
		const cm = find("ConfigMap", ef.configMapRef.name);
		if (!cm)
			throw new Error(`envFrom ConfigMap ${ef.configMapRef.name} not in the render`);
		Object.assign(env, cm.data);
	}
	for (const e of c.env || []) {
		if (e.value !== undefined)
			env[e.name] = e.value;
		else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name")
			env[e.name] = podName;
		else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace")
			env[e.name] = NS;
		else
			throw new Error(`env ${e.name}: unsupported source`);
	}
	// what the kubelet adds for the API server's Service
	env.KUBERNETES_SERVICE_HOST = "127.0.0.1";
	env.KUBERNETES_SERVICE_PORT = "6443";
	env.HOSTNAME = podName;
	return env;
}

function runPod(deploymentName, podName, podSpec) {
	const pod = podSpec || find("Deployment", deploymentName).spec.template.spec;
	const c = pod.containers[0];
	const sc = pod.securityContext || {};
	const uid = c.securityContext?.runAsUser ?? sc.runAsUser;
	const gid = c.securityContext?.runAsGroup ?? sc.runAsGroup ?? uid;
	const root = path.join(work, podName);
	// The container's file system: the host's /usr (the image's libraries are these
	// packages, scripts/build-image.sh) and the binary at the image's path.
	for (const dir of ["usr", "etc", "tmp", "dev", "proc", SA_DIR.slice(1)])
		fs.mkdirSync(path.join(root, dir), { recursive: true });
	for (const l of ["lib", "lib64", "bin", "sbin"])
		fs.symlinkSync(`usr/${l}`, path.join(root, l));
	execFileSync("mount", ["--bind", "/usr", path.join(root, "usr")]);
	execFileSync("mount", ["-o", "remount,bind,ro", path.join(root, "usr")]);
	execFileSync("mount", ["--rbind", "/dev", path.join(root, "dev")]);
	execFileSync("mount", ["-t", "proc", "proc", path.join(root, "proc")]);
	fs.mkdirSync(path.join(root, "usr-local-bin"));
	const exe = c.command ? c.command[0] : `/usr/local/bin/${deploymentName}`;
	// /usr is read-only: the binary goes on a tmpfs over /usr/local/bin
	execFileSync("mount", ["-t", "tmpfs", "tmpfs", path.join(root, "usr/local/bin")]);
	fs.copyFileSync(`${bin}/${path.basename(exe)}`, path.join(root, exe));
	fs.chmodSync(path.join(root, exe), 0o755);
	fs.writeFileSync(path.join(root, "etc/passwd"), `root:x:0:0::/:/bin/sh\nnonroot:x:${uid}:${gid}::/:/bin/false\n`);
	fs.writeFileSync(path.join(root, "etc/group"), `root:x:0:\nnonroot:x:${gid}:\n`);
	fs.chmodSync(path.join(root, "tmp"), 0o1777);
	// the projected service-account volume
	const writeFiles = (dir, data, mode) => {
		fs.mkdirSync(path.join(root, dir), { recursive: true });
		for (const [k, v] of Object.entries(data)) {
			const f = path.join(root, dir, k);
			fs.writeFileSync(f, v);
			fs.chownSync(f, 0, sc.fsGroup ?? 0);
			fs.chmodSync(f, mode);
		}
	};
	writeFiles(SA_DIR, { token, "ca.crt": kubeCA.toString(), namespace: NS }, 0o644);
	for (const m of c.volumeMounts || []) {
		const { data, mode } = volumeFiles(pod.volumes.find((v) => v.name === m.name));
		writeFiles(m.mountPath, data, mode);
	}
	const cmd = c.command || [exe];
	const groups = [gid, sc.fsGroup].filter((g) => g !== undefined).join(",");
	const argv = ["/usr/sbin/chroot", `--userspec=${uid}:${gid}`, `--groups=${groups}`, root,
		...cmd, ...(c.args || [])];
	fs.writeFileSync(path.join(work, `${podName}.argv`), JSON.stringify(argv) + "\n");
	return start(podName, argv, { env: envOf(pod, c, podName) });
}

// ---- the cluster's objects: an established TMR for app/app-data ----
await kube("POST", "/apis/storage.k8s.io/v1/storageclasses", { apiVersion: "storage.k8s.io/v1",
	kind: "StorageClass", metadata: { name: "ontap-replicated" },
	provisioner: "csi.trident.netapp.io",
	parameters: { backendType: "ontap-nas", "trident.netapp.io/replication": "true" } });
await kube("POST", "/apis/trident.netapp.io/v1/namespaces/app/tridentmirrorrelationships", {
	apiVersion: "trident.netapp.io/v1", kind: "TridentMirrorRelationship",
	metadata: { name: "app-data-mirror", namespace: "app" },
	spec: { state: "established", replicationPolicy: "MirrorAllSnapshots",
		replicationSchedule: "5min",
		volumeMappings: [{ localPVCName: "app-data", remoteVolumeHandle: "svm-a:vol_src" }] } });

// ---- the install's webhook configurations, and the certificate rotator Job ----
// (after the TMR: kube-sim calls the webhooks these configurations name, as the API server does)
for (const o of selfSigned.filter((x) => /WebhookConfiguration$/.test(x.kind))) {
	const plural = o.kind.toLowerCase() + "s";
	await kube("POST", `/apis/admissionregistration.k8s.io/v1/${plural}`, o);
}
check(JSON.stringify(rendered.filter((o) => o.kind === "Deployment")) ===
	JSON.stringify(selfSigned.filter((o) => o.kind === "Deployment")),
	"the self-signed-certs overlay runs the same Deployments");
const job = selfSigned.find((o) => o.kind === "Job");
const rotator = runPod(null, "mirrorgate-cert-rotator-install", job.spec.template.spec);
const rotated = await new Promise((resolve) => rotator.on("exit", resolve));
check(rotated === 0, "the rotator Job (its exact command and args, in-cluster) exits 0",
	fs.readFileSync(path.join(work, "mirrorgate-cert-rotator-install.log"), "utf8"));
const b64 = (x) => Buffer.from(x, "base64").toString("utf8");
const tlsSecret = await kube("GET", `/api/v1/namespaces/${NS}/secrets/mirrorgate-webhook-tls`);
servingSecret = { metadata: tlsSecret.metadata, stringData: Object.fromEntries(
	Object.entries(tlsSecret.data).map(([k, v]) => [k, b64(v)])) };
for (const plural of ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"]) {
	const cfg = await kube("GET", `/apis/admissionregistration.k8s.io/v1/${plural}/mirrorgate`);
	check(cfg.webhooks.every((w) => b64(w.clientConfig.caBundle) === servingSecret.stringData["ca.crt"]),
		`${plural}: caBundle is the CA of the serving certificate`);
}

const reconciler = runPod("mirrorgate-reconciler", "mirrorgate-reconciler-0");
const webhook = runPod("mirrorgate-webhook", "mirrorgate-webhook-0");
for (const [p, name] of [[reconciler, "reconciler"], [webhook, "webhook"]])
	p.on("exit", (code) => check(false, `${name} keeps running`, `exited ${code}; see ${work}`));

const servingCA = servingSecret.stringData["ca.crt"];
// The API server checks the certificate for the Service's name; so does the test.
const SERVICE_DNS = `mirrorgate-webhook.${NS}.svc`;
await waitFor("the reconciler's /readyz", async () =>
	(await request("http://127.0.0.1:8080/readyz")).status === 200, 30000);
check(true, "reconciler ready (in-cluster config, mounted config and credentials readable)");
await waitFor("the webhook's /readyz", async () =>
	(await request("https://127.0.0.1:8443/readyz", { ca: servingCA, servername: SERVICE_DNS })).status === 200, 30000);
check(true, "webhook ready over TLS with the mounted serving Secret (in-cluster informers synced)");
const metrics = (await request("http://127.0.0.1:8080/metrics")).body;
check(/mirrorgate_build_info\{version="[^"]+"\} 1/.test(metrics), "reconciler exports mirrorgate_build_info");
check(/mirrorgate_leader\{\} [01]/.test(metrics), "reconciler exports mirrorgate_leader");

// ---- the topology the reconciler publishes, in the namespace the webhook reads ----
const settings = find("ConfigMap", find("Deployment", "mirrorgate-webhook").spec.template.spec
	.containers[0].envFrom[0].configMapRef.name).data;
const topoNS = settings.MIRRORGATE_TOPOLOGY_NAMESPACE;
const topo = await waitFor("the topology ConfigMap", async () => {
	const r = await request(`https://127.0.0.1:6443/api/v1/namespaces/${topoNS}/configmaps/mirrorgate-topology`,
		{ ca: kubeCA, token });
	return r.status === 200 ? JSON.parse(r.body) : null;
});
check(/svm-b/.test(topo.data["topology.yaml"]), "the reconciler published the topology of svm-b",
	topo.data["topology.yaml"]);

let uid = 0;
async function review(object) {
	const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/")
		: ["", object.apiVersion];
	const resource = { PersistentVolumeClaim: "persistentvolumeclaims",
		TridentMirrorRelationship: "tridentmirrorrelationships" }[object.kind];
	const r = await request("https://127.0.0.1:8443/validate", { method: "POST", ca: servingCA,
		servername: SERVICE_DNS,
		body: { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: {
			uid: `install-${++uid}`, kind: { group, version, kind: object.kind },
			resource: { group, version, resource }, name: object.metadata.name,
			namespace: object.metadata.namespace, operation: "CREATE",
			userInfo: { username: "install-test" }, object, oldObject: null, dryRun: false } } });
	if (r.status !== 200)
		throw new Error(`/validate: ${r.status} ${r.body}`);
	return JSON.parse(r.body).response;
}
const pvc = (name, tmr) => ({ apiVersion: "v1", kind: "PersistentVolumeClaim",
	metadata: { name, namespace: "app", annotations: { "trident.netapp.io/mirrorRelationship": tmr } },
	spec: { accessModes: ["ReadWriteMany"], storageClassName: "ontap-replicated",
		resources: { requests: { storage: "10Gi" } } } });
const tmr = (name, remote) => ({ apiVersion: "trident.netapp.io/v1",
	kind: "TridentMirrorRelationship", metadata: { name, namespace: "app" },
	spec: { state: "established", replicationPolicy: "MirrorAllSnapshots", replicationSchedule: "5min",
		volumeMappings: [{ localPVCName: `${name}-data`, remoteVolumeHandle: remote }] } });

// The informers see the TMR once it is listed or watched.
const valid = await waitFor("the webhook to admit the destination PVC of the TMR", async () => {
	const r = await review(pvc("app-data", "app-data-mirror"));
	return r.allowed ? r : null;
}, 15000).catch((e) => ({ allowed: false, status: { message: e.message } }));
check(valid.allowed, "admits a secondary PVC whose TMR exists", valid.status?.message);
const orphan = await review(pvc("orphan-data", "no-such-mirror"));
check(!orphan.allowed && /TridentMirrorRelationship/.test(orphan.status?.message || ""),
	"denies an orphan secondary PVC (no TMR)", JSON.stringify(orphan));
const unpeered = await waitFor("the webhook to see the published topology", async () => {
	const r = await review(tmr("elsewhere", "svm_elsewhere:vol_1"));
	return !r.allowed ? r : null;
}, 15000).catch((e) => ({ allowed: true, status: { message: e.message } }));
check(!unpeered.allowed && /peer/i.test(unpeered.status?.message || ""),
	"denies a TMR whose remote SVM the published topology does not peer", JSON.stringify(unpeered));
const peered = await review(tmr("peered", "svm-a:vol_2"));
check(peered.allowed, "admits a TMR whose remote SVM is peered in the published topology",
	JSON.stringify(peered));
finish(0);
