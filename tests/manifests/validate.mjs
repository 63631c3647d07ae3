// Manifest test: every shipped kustomization renders (kubectl kustomize, kustomize v5), and
// every rendered object is valid against the Kubernetes OpenAPI schemas, checked by
// kubernetes-models (its classes carry the JSON schemas generated from the Kubernetes
// OpenAPI spec; @kubernetes-models/* do the same for the cert-manager and Prometheus
// operator CRDs). Then the install's own promises: one namespace, one image-name scheme,
// the webhook's in-cluster lookups, the shared topology namespace, readable Secrets.
//   node validate.mjs REPO_DIR IMAGE_REPO VERSION
import { execFileSync } from "node:child_process";
import { parseAllDocuments } from "yaml";

const [repo, imageRepo, version] = process.argv.slice(2);
if (!repo || !imageRepo || !version) {
	console.error("usage: node validate.mjs REPO_DIR IMAGE_REPO VERSION");
	process.exit(2);
}
const KUSTOMIZATIONS = [
	"manifests",
	"manifests/overlays/webhook-only",
	"manifests/overlays/self-signed-certs",
	"manifests/overlays/beside-trident",
	"manifests/crds",
	"tests/manifests/everything",
];
// apiVersion group -> the package module that models it
const PACKAGES = {
	"cert-manager.io": "@kubernetes-models/cert-manager/cert-manager.io",
	"monitoring.coreos.com": "@kubernetes-models/prometheus-operator/monitoring.coreos.com",
};
let passed = 0, failed = 0;
function check(ok, what, detail) {
	if (ok) {
		passed++;
	} else {
		failed++;
		console.log(`FAIL ${what}${detail ? ": " + detail : ""}`);
	}
}

export function render(dir) {
	const text = execFileSync("kubectl", ["kustomize", `${repo}/${dir}`], { encoding: "utf8" });
	return parseAllDocuments(text).map((d) => d.toJS()).filter((o) => o);
}

async function model(apiVersion, kind) {
	const [group, ver] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
	const mod = PACKAGES[group] ? `${PACKAGES[group]}/${ver}/${kind}`
		: group ? `kubernetes-models/${group}/${ver}/${kind}` : `kubernetes-models/${ver}/${kind}`;
	try {
		const m = await import(mod);
		return m[kind] || m.default;
	} catch (e) {
		return null;
	}
}

for (const dir of KUSTOMIZATIONS) {
	let objs;
	try {
		objs = render(dir);
		check(objs.length > 0, `${dir} renders`, "no objects");
	} catch (e) {
		check(false, `${dir} renders`, String(e.stderr || e.message).trim());
		continue;
	}
	for (const o of objs) {
		const name = `${dir}: ${o.kind}/${o.metadata?.name}`;
		const Model = await model(o.apiVersion, o.kind);
		if (!Model) {
			check(false, name, `no schema for ${o.apiVersion} ${o.kind}`);
			continue;
		}
		try {
			new Model(o).validate();
			check(true, name);
		} catch (e) {
			check(false, name, e.message);
		}
		// One namespace: every namespaced object of the install is in namespace mirrorgate,
		// except the beside-Trident Role (and its binding) for the TBC Secrets, which must be
		// in Trident's namespace to grant anything there.
		const tbcSecrets = o.metadata?.name === "mirrorgate-reconciler-tbc-secrets" &&
			(o.kind === "Role" || o.kind === "RoleBinding");
		if (o.metadata?.namespace !== undefined)
			check(o.metadata.namespace === (tbcSecrets ? "trident" : "mirrorgate"),
			      `${name} namespace`, o.metadata.namespace);
	}
	const deployments = objs.filter((o) => o.kind === "Deployment");
	for (const d of deployments) {
		const name = `${dir}: Deployment/${d.metadata.name}`;
		const pod = d.spec.template.spec;
		const c = pod.containers[0];
		// One image-name scheme: <IMAGE_REPO>/<binary>:<version>, as `make image` builds.
		check(c.image === `${imageRepo}/${d.metadata.name}:${version}`, `${name} image`, c.image);
		// The Secrets are readable by the pod's user: group-readable and fsGroup set.
		for (const v of pod.volumes || []) {
			if (!v.secret)
				continue;
			const mode = v.secret.defaultMode ?? 0o644;
			const readable = (mode & 0o040) && pod.securityContext?.fsGroup !== undefined
				|| (mode & 0o004);
			check(readable, `${name} Secret ${v.secret.secretName} readable by uid ` +
			      `${pod.securityContext?.runAsUser}`, `mode ${mode.toString(8)}`);
		}
		// The topology namespace comes from the shared settings ConfigMap.
		const settings = (c.envFrom || []).map((e) => e.configMapRef?.name)
			.filter((n) => n && n.startsWith("mirrorgate-settings"));
		check(settings.length === 1, `${name} reads mirrorgate-settings`);
		const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === settings[0]);
		check(cm?.data?.MIRRORGATE_TOPOLOGY_NAMESPACE === "mirrorgate",
		      `${name} topology namespace is the install namespace`);
		if (d.metadata.name === "mirrorgate-webhook")
			check(c.args.includes("--in-cluster"), `${name} runs with --in-cluster`);
		if (d.metadata.name === "mirrorgate-reconciler" && dir.endsWith("beside-trident")) {
			check(c.args.includes("--backends-from-trident"),
			      `${name} builds its backends from Trident's TBCs`);
			const rb = objs.find((o) => o.kind === "RoleBinding" &&
					     o.metadata.name === "mirrorgate-reconciler-tbc-secrets");
			check(rb?.subjects?.[0]?.name === "mirrorgate-reconciler" &&
			      rb?.subjects?.[0]?.namespace === "mirrorgate",
			      `${name}: its service account may read the TBC Secrets in trident`);
		}
	}
	// Jobs run from the webhook's image (the certificate rotator): the same scheme.
	for (const j of objs.filter((o) => o.kind === "Job" || o.kind === "CronJob")) {
		const spec = j.kind === "Job" ? j.spec.template.spec : j.spec.jobTemplate.spec.template.spec;
		for (const c of spec.containers)
			check(c.image === `${imageRepo}/mirrorgate-webhook:${version}`,
			      `${dir}: ${j.kind}/${j.metadata.name} image`, c.image);
	}
	if (dir === "manifests") {
		check(deployments.length === 2, "manifests: webhook and reconciler", deployments.length);
		const ns = new Set(objs.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name));
		check(ns.size === 1 && ns.has("mirrorgate"), "manifests: one Namespace", [...ns]);
	}
}
console.log(`manifests: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
