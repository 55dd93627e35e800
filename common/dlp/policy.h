/*
 * policy.h - DLP policies (mailseal-policy(5)): named files of rules whose
 * conditions read a scan's findings and the message's facts, and whose
 * actions decide what dlp-scan does.
 *
 * API: policy_set_new(); policy_load_file() or policy_parse_text() for
 * each policy (keyword and regex conditions become custom detectors of
 * the engine, so one scan serves every rule); policy_evaluate() gives the
 * rules that fired, in file order, honouring stop.  policy_find() finds a
 * policy file: $STORE/policies/NAME.policy first, then the shipped
 * SHAREDIR/policies/NAME.policy.
 *
 * Errors: a syntax error is MS_CONFIG, reported as "file:line: why" (mail
 * defers, never passes unscanned).  Limits: LIMIT_SETTINGS_FILE per file,
 * LIMIT_SETTINGS_LINE per line, POLICY_RULES_MAX rules per set.
 */
#ifndef MAILSEAL_POLICY_H
#define MAILSEAL_POLICY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "dlp-text.h"
#include "dlp.h"
#include "err.h"
#include "store.h"
#include "mslimits.h"

/* actions, least to most severe */
typedef enum policy_action {
	POLICY_PASS = 0,
	POLICY_WARN,
	POLICY_MUST_ENCRYPT,
	POLICY_QUARANTINE,
	POLICY_BLOCK
} policy_action;

typedef enum policy_mode {
	POLICY_ENFORCE,
	POLICY_AUDIT,
	POLICY_OFF
} policy_mode;

typedef struct policy_set policy_set;
typedef struct policy_rule policy_rule;

/* the facts a rule reads besides the findings */
typedef struct policy_facts {
	const dlp_result *result;
	const dlp_text_report *report;
	size_t size;			/* octets of the message */
	const char *sender;		/* envelope sender or NULL */
	const char *const *recipients;	/* NULL-terminated */
} policy_facts;

/* policy_set_new - an empty set whose custom detectors go to engine */
policy_set *policy_set_new(dlp_engine *engine);

/* policy_set_free - free a set (NULL is fine) */
void policy_set_free(policy_set *set);

/* policy_parse_text - add the rules of one policy file's text; errors
 * name file and line */
ms_err policy_parse_text(policy_set *set, const char *file,
    const char *text, size_t len);

/* policy_find - the path of policy name (g_free), or NULL with *err set:
 * MS_CONFIG for a bad name or a policy that does not exist */
char *policy_find(const ms_store *store, const char *sharedir,
    const char *name, ms_err *err);

/* policy_load_file - read and parse one policy file */
ms_err policy_load_file(policy_set *set, const char *path);

/* policy_evaluate - the rules that fire for facts (mode off never does),
 * in order, up to and including the first fired rule marked stop;
 * the array does not own the rules */
GPtrArray *policy_evaluate(const policy_set *set, const policy_facts *facts);

/* policy_rule_count - rules in the set */
size_t policy_rule_count(const policy_set *set);

/* policy_rule_name - the rule's name */
const char *policy_rule_name(const policy_rule *rule);

/* policy_rule_action - the rule's action */
policy_action policy_rule_action(const policy_rule *rule);

/* policy_rule_mode - enforce, audit or off */
policy_mode policy_rule_mode(const policy_rule *rule);

/* policy_rule_severity - "low", "medium" or "high" */
const char *policy_rule_severity(const policy_rule *rule);

/* policy_rule_detectors - the detector ids the rule's conditions read
 * (for incident lines); the array is the rule's */
const GArray *policy_rule_detectors(const policy_rule *rule);

/* policy_action_name - "pass", "warn", "must-encrypt", ... */
const char *policy_action_name(policy_action action);

#endif
