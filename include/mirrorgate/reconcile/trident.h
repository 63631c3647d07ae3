/* Running beside Trident: which of Trident's mirror controllers are active, judged from
 * Trident's own objects, and the reconciler mode that follows. Pure: the reconciler reads
 * the objects (reconciler/trident_detect.c), this decides.
 *
 * What Trident's source shows (github.com/NetApp/trident, by release tag):
 * - TridentMirrorRelationship: handled by the CRD controller of every release from 21.07 on
 *   (frontend/crd/mirror_controller.go, later trident_mirror_relationship.go); nothing turns
 *   it off. TridentSnapshotInfo is handled wherever the TMR is.
 * - TridentActionMirrorUpdate: 23.07 has the handler behind config.DisableExtraFeatures (true
 *   in the open-source build: never handled); 23.10 to 24.06 behind ACP
 *   (acp.API().IsFeatureEnabled: "acp is not enabled" unless the orchestrator runs with
 *   enableACP); from 24.10 IsFeatureEnabled returns nil: always handled.
 * - TridentVersion (namespaced, in Trident's namespace) carries `trident_version`;
 *   TridentOrchestrator (cluster-scoped, operator installs) carries spec.enableACP and
 *   status.{status,version,namespace,acpVersion}.
 * - Trident's Events come from the component "trident-crd-controller". */
#ifndef MIRRORGATE_RECONCILE_TRIDENT_H
#define MIRRORGATE_RECONCILE_TRIDENT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define MG_TRIDENT_EVENT_COMPONENT "trident-crd-controller"

/* What was read from the cluster. Borrowed objects, any may be NULL. */
typedef struct mg_trident_facts {
	const cJSON *version;      /* a TridentVersion */
	const cJSON *orchestrator; /* a TridentOrchestrator */
	/* Events about TMRs written by Trident's CRD controller, and TMRs carrying the
	 * trident.netapp.io finalizer (counted, for the explanation). */
	unsigned trident_tmr_events;
	unsigned tmrs_with_finalizer;
	bool api_unreadable; /* a read failed: nothing can be concluded */
} mg_trident_facts;

typedef struct mg_trident_verdict {
	bool known;         /* false: the objects could not be read (keep the last verdict) */
	bool present;       /* Trident is installed */
	bool tmr_active;    /* its controller handles TMRs and TSIs */
	bool tamu_active;   /* ... and TAMUs */
	int major, minor;   /* its version, 0.0 when unknown */
	char version[64];   /* as Trident wrote it, "" when unknown */
	bool acp;           /* enableACP (or an ACP version in the orchestrator's status) */
	char why[512];      /* one sentence: what was found and what it means */
} mg_trident_verdict;

/* "24.06.1", "v24.06.0", "24.10.0-custom": 0 with major and minor; MG_EPARSE otherwise. */
int mg_trident_version_parse(const char *s, int *major, int *minor);
void mg_trident_judge(const mg_trident_facts *f, mg_trident_verdict *out);

enum mg_rec_mode {
	MG_MODE_AUTO = 0,   /* follow detection */
	MG_MODE_CONTROLLER, /* mirrorgate executes the transitions */
	MG_MODE_COMPANION,  /* Trident executes them; mirrorgate observes and explains */
};
const char *mg_rec_mode_name(enum mg_rec_mode m);
/* "auto", "controller", "companion"; MG_EINVAL otherwise. */
int mg_rec_mode_parse(const char *s, enum mg_rec_mode *out);

typedef struct mg_mode_decision {
	enum mg_rec_mode mode; /* CONTROLLER or COMPANION */
	bool refused;          /* controller asked for beside an active Trident: act on nothing */
	char why[1200];        /* for the log line, the Event and the docs */
} mg_mode_decision;

/* The effective mode: `requested` (AUTO follows the verdict), refused when CONTROLLER is
 * asked for while Trident's TMR controller is active, unless `override` (the documented
 * --allow-controller-beside-trident). */
void mg_mode_decide(enum mg_rec_mode requested, bool override, const mg_trident_verdict *v,
		    mg_mode_decision *out);

#endif
