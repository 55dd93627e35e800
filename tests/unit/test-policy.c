/*
 * test-policy.c - table-driven tests of common/policy.c (what a policy
 * file may contain, which rules fire for given findings and facts).
 */
#include "dlp-text.h"
#include "dlp.h"
#include "policy.h"

#include "unit.h"

typedef struct parse_case {
	const char *text;
	bool ok;
} parse_case;

static const parse_case parse_cases[] = {
	{ "", true },
	{ "# only a comment\n\n", true },
	{ "rule a\n when payment_card\n action warn\n", true },
	{ "rule a\nwhen payment_card count >= 3 unique confidence >= high\n"
	  "action block\nmode audit\nseverity high\nstop\n", true },
	{ "rule a\n when keyword \"project x\", y\n action warn\n", true },
	{ "rule a\n when regex \"[0-9]{3}\\\\.x\" count > 2\n action warn\n",
	  true },
	{ "rule a\n when size >= 10M\n when attachment-type image/*\n"
	  " match any\n action quarantine\n", true },
	{ "rule a\n when unscannable\n action quarantine\n", true },
	{ "rule a\n when unscannable limit_exceeded user_encrypted\n"
	  " except sender @example.com a@b.test\n"
	  " except recipient x@y.test\n skip c@d.test\n action warn\n",
	  true },
	{ "rule a\n when attachment-name *.exe *.scr\n action block\n", true },
	{ "rule a\n when payment_card\n action warn\nrule b\n when iban\n"
	  " action must-encrypt\n", true },
	/* errors */
	{ "when payment_card\n", false },		/* outside a rule */
	{ "rule a\n action warn\n", false },		/* no condition */
	{ "rule a\n when payment_card\n", false },	/* no action */
	{ "rule a\n when payment_card\n action pass\n", false },
	{ "rule a\n when payment_card\n action reject\n", false },
	{ "rule a\n when credit_card\n action warn\n", false },
	{ "rule a\n when payment_card count 3\n action warn\n", false },
	{ "rule a\n when payment_card count >= x\n action warn\n", false },
	{ "rule a\n when payment_card confidence >= huge\n action warn\n",
	  false },
	{ "rule a\n when payment_card extra\n action warn\n", false },
	{ "rule a\n when regex \"(\"\n action warn\n", false },
	{ "rule a\n when regex \"a\" \"b\"\n action warn\n", false },
	{ "rule a\n when keyword \"open\n action warn\n", false },
	{ "rule a\n when keyword\n action warn\n", false },
	{ "rule a\n when size big\n action warn\n", false },
	{ "rule a\n when unscannable corrupt\n action warn\n", false },
	{ "rule a\n when attachment-type\n action warn\n", false },
	{ "rule a\n when payment_card\n action warn\n mode maybe\n", false },
	{ "rule a\n when payment_card\n action warn\n match some\n", false },
	{ "rule a\n when payment_card\n action warn\n stop now\n", false },
	{ "rule ../x\n when payment_card\n action warn\n", false },
	{ "rule\n when payment_card\n action warn\n", false },
	{ "rule a\n when payment_card\n action warn\n frobnicate\n", false },
	{ "rule a\n when payment_card\n action warn\n severity 3\n", false },
};

static void
check_parse(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
		const parse_case *c = &parse_cases[i];
		ms_err err;
		dlp_engine *engine = dlp_engine_new(&err);
		policy_set *set = policy_set_new(engine);

		err = policy_parse_text(set, "t.policy", c->text,
		    strlen(c->text));
		unit_check((err == MS_OK) == c->ok && (c->ok || err ==
		    MS_CONFIG), "parse %s: %s", unit_show(c->text),
		    c->ok ? "accepted" : "refused");
		policy_set_free(set);
		dlp_engine_free(engine);
	}
}

typedef struct eval_case {
	const char *policy;
	const char *text;		/* scanned as part "1" */
	unsigned unscannable;
	size_t size;
	const char *sender;
	const char *attachment_type;	/* one attachment, or NULL */
	const char *fired;		/* names, comma-separated */
} eval_case;

#define CARD "card 4556 7375 8689 9855"

static const eval_case eval_cases[] = {
	{ "rule a\n when payment_card\n action warn\n", CARD, 0, 100,
	  NULL, NULL, "a" },
	{ "rule a\n when payment_card\n action warn\n", "no numbers", 0, 100,
	  NULL, NULL, "" },
	{ "rule a\n when payment_card count >= 2\n action warn\n", CARD, 0,
	  100, NULL, NULL, "" },
	{ "rule a\n when payment_card count >= 2\n action warn\n",
	  CARD " " CARD, 0, 100, NULL, NULL, "a" },
	{ "rule a\n when payment_card count >= 2 unique\n action warn\n",
	  CARD " " CARD, 0, 100, NULL, NULL, "" },
	{ "rule a\n when payment_card count <= 1\n when payment_card\n"
	  " action warn\n", CARD, 0, 100, NULL, NULL, "a" },
	{ "rule a\n when keyword falcon\n action warn\n", "the Falcon plan",
	  0, 100, NULL, NULL, "a" },
	{ "rule a\n when keyword falcon\n action warn\n", "falconry", 0, 100,
	  NULL, NULL, "" },
	{ "rule a\n when regex \"INV-[0-9]{4}\"\n action warn\n",
	  "see INV-1234", 0, 100, NULL, NULL, "a" },
	{ "rule a\n when size > 1K\n action warn\n", "x", 0, 2048, NULL,
	  NULL, "a" },
	{ "rule a\n when size > 1K\n action warn\n", "x", 0, 1024, NULL,
	  NULL, "" },
	{ "rule a\n when unscannable\n action warn\n", "x",
	  DLP_UNSCANNABLE_ENCRYPTED, 100, NULL, NULL, "a" },
	{ "rule a\n when unscannable limit_exceeded\n action warn\n", "x",
	  DLP_UNSCANNABLE_ENCRYPTED, 100, NULL, NULL, "" },
	{ "rule a\n when attachment-type image/*\n action warn\n", "x", 0,
	  100, NULL, "image/png", "a" },
	{ "rule a\n when attachment-type image/*\n action warn\n", "x", 0,
	  100, NULL, "application/pdf", "" },
	{ "rule a\n when payment_card\n except sender @example.com\n"
	  " action warn\n", CARD, 0, 100, "x@sub.example.com", NULL, "" },
	{ "rule a\n when payment_card\n except sender @example.com\n"
	  " action warn\n", CARD, 0, 100, "x@notexample.com", NULL, "a" },
	{ "rule a\n when payment_card\n skip X@Example.com\n action warn\n",
	  CARD, 0, 100, "x@example.com", NULL, "" },
	{ "rule a\n when payment_card\n when keyword nope\n action warn\n",
	  CARD, 0, 100, NULL, NULL, "" },
	{ "rule a\n match any\n when payment_card\n when keyword nope\n"
	  " action warn\n", CARD, 0, 100, NULL, NULL, "a" },
	{ "rule a\n when payment_card\n action warn\n mode off\n", CARD, 0,
	  100, NULL, NULL, "" },
	{ "rule a\n when payment_card\n action warn\n stop\nrule b\n"
	  " when payment_card\n action block\n", CARD, 0, 100, NULL, NULL,
	  "a" },
	{ "rule a\n when payment_card\n action warn\n stop\n mode audit\n"
	  "rule b\n when payment_card\n action block\n", CARD, 0, 100, NULL,
	  NULL, "a,b" },
};

static void
check_eval(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(eval_cases); i++) {
		const eval_case *c = &eval_cases[i];
		ms_err err;
		dlp_engine *engine = dlp_engine_new(&err);
		policy_set *set = policy_set_new(engine);
		dlp_result *result = dlp_result_new();
		dlp_text_report report;
		policy_facts facts = { 0 };
		const char *recipients[] = { "r@example.net", NULL };
		GString *names = g_string_new(NULL);
		GPtrArray *fired;

		dlp_text_report_init(&report);
		err = policy_parse_text(set, "t.policy", c->policy,
		    strlen(c->policy));
		if (err == MS_OK)
			err = dlp_scan_text(engine, c->text, strlen(c->text),
			    "1", result);
		report.unscannable = c->unscannable;
		if (c->attachment_type != NULL) {
			dlp_attachment *a = g_new0(dlp_attachment, 1);

			a->path = g_strdup("2");
			a->declared_type = g_strdup(c->attachment_type);
			g_ptr_array_add(report.attachments, a);
		}
		facts.result = result;
		facts.report = &report;
		facts.size = c->size;
		facts.sender = c->sender;
		facts.recipients = recipients;
		fired = policy_evaluate(set, &facts);
		for (guint k = 0; k < fired->len; k++)
			g_string_append_printf(names, "%s%s", k ? "," : "",
			    policy_rule_name(g_ptr_array_index(fired, k)));
		unit_check(err == MS_OK && strcmp(names->str, c->fired) == 0,
		    "evaluate %s on %s: fired %s", unit_show(c->policy),
		    unit_show(c->text), unit_show(c->fired));
		g_ptr_array_free(fired, TRUE);
		g_string_free(names, TRUE);
		dlp_text_report_clear(&report);
		dlp_result_free(result);
		policy_set_free(set);
		dlp_engine_free(engine);
	}
}

int
main(void)
{
	check_parse();
	check_eval();
	return unit_done();
}
