/* Table-driven review cases: a case is YAML in, the exact verdict out. */
#ifndef MG_TEST_RULES_CASES_H
#define MG_TEST_RULES_CASES_H

struct review_case {
	const char *name;
	const char *op;       /* "CREATE" when NULL */
	const char *object;   /* YAML of the new object (the old one for DELETE) */
	const char *old;      /* YAML of the old object (UPDATE), or NULL */
	const char *state;    /* YAML stream of other cluster objects, or NULL */
	const char *topology; /* topology YAML, or NULL (unknown) */
	const char *message;  /* the exact denial message, or NULL: allowed */
	const char *warnings; /* every warning, each followed by "\n", or NULL: none */
	const char *rules;    /* rule IDs that fired, space-separated, or NULL: don't check */
	const char *patch;    /* the exact JSON Patch, or NULL: none */
};

/* Runs one case and asserts everything it states. */
void run_review_case(const struct review_case *c);
/* Runs a table (terminated by a case with name NULL). */
void run_review_cases(const struct review_case *cases);

#endif
